import { toJson } from "@bufbuild/protobuf";
import { UserSchema } from "@grouppe/api";
import type { Command } from "commander";
import { CliError } from "../cli-error.js";
import { resolveAddresses, resolveTls } from "../connection.js";
import { loadCredentials, removeCredentials, saveCredentials } from "../credentials.js";
import { ExitCode } from "../exit-codes.js";
import { details, formatTime } from "../format.js";
import { passwordFromStdin, promptPassword } from "../read-password.js";
import { credentialsOf } from "../session.js";
import type { Action } from "./action.js";

/** `grouppe login`, `grouppe logout` and `grouppe whoami`. */
export function registerAuth(program: Command, action: Action): void {
  program
    .command("login")
    .description("sign in; the session is kept in your config directory (mode 0600)")
    .requiredOption("--email <address>", "your account's email address")
    .option("--password-stdin", "read the password from stdin instead of asking")
    .action(
      action(async (ctx, _args, opts) => {
        let password: string;
        if (opts.passwordStdin) password = await passwordFromStdin(ctx.io);
        else if (ctx.io.stdin.isTTY) password = await promptPassword(ctx.io);
        else {
          throw new CliError(
            "no terminal to ask for the password: pipe it in with --password-stdin",
            ExitCode.usage,
          );
        }
        const { session } = await ctx.anonymous().auth.logIn({
          email: opts.email as string,
          password,
        });
        if (session === undefined)
          throw new CliError("the server sent no session", ExitCode.failed);
        const address = resolveAddresses(
          ctx.options,
          ctx.io,
          resolveTls(ctx.options, ctx.io) !== undefined,
        ).join(",");
        const path = await saveCredentials(ctx.io, credentialsOf(address, session));
        if (ctx.json) {
          ctx.printJson({
            user: session.user && toJson(UserSchema, session.user),
            credentials: path,
          });
        } else {
          ctx.print(`Signed in as ${session.user?.displayName} <${session.user?.email}>.`);
          ctx.note(`Session saved in ${path}.`);
        }
      }),
    );

  program
    .command("logout")
    .description("end the saved session and delete it")
    .action(
      action(async (ctx) => {
        const saved = await loadCredentials(ctx.io);
        if (saved !== undefined) {
          try {
            await ctx.anonymous().auth.logOut({ refreshToken: saved.refreshToken });
          } finally {
            // Even when the server cannot be told, the token must not stay on disk.
            await removeCredentials(ctx.io);
          }
        }
        if (ctx.json) ctx.printJson({ signedOut: saved !== undefined });
        else ctx.print(saved === undefined ? "Not signed in." : "Signed out.");
      }),
    );

  program
    .command("whoami")
    .description("show who the saved session or GROUPPE_TOKEN belongs to")
    .action(
      action(async (ctx) => {
        const { user } = await ctx.client().auth.getCurrentUser({});
        if (user === undefined) throw new CliError("the server sent no user", ExitCode.failed);
        if (ctx.json) ctx.printJson(toJson(UserSchema, user));
        else
          ctx.print(
            details([
              ["name", user.displayName],
              ["email", user.email],
              ["id", user.id],
              ["since", formatTime(user.createTime)],
            ]),
          );
      }),
    );
}
