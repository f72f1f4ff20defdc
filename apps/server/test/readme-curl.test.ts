import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../src/testing/index.js";

const run = promisify(execFile);
const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

/** The curl commands of the README's "Try it" section, continuation lines joined. */
function readmeCurlCommands(): string[] {
  const section = readme.split("## Try it")[1]?.split("\n## ")[0] ?? "";
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("curl "));
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe("the README's curl examples", () => {
  it("run as printed against a real server", async () => {
    const commands = readmeCurlCommands();
    expect(commands.length).toBe(4);
    const env = { ...process.env, TOKEN: "" };
    const outputs: unknown[] = [];
    for (const command of commands) {
      const { stdout } = await run(
        "bash",
        ["-c", command.replaceAll("http://localhost:8080", server.baseUrl)],
        { env },
      );
      const output = JSON.parse(stdout);
      outputs.push(output);
      // The sign-up answer supplies $TOKEN for the examples after it, as a reader would.
      if (output.session?.accessToken) env.TOKEN = output.session.accessToken;
    }
    const [signUp, created, listed, invalid] = outputs as [
      { session: { user: { email: string } } },
      { event: { id: string; title: string } },
      { events: { id: string }[] },
      { code: string; details: { type: string }[] },
    ];
    expect(signUp.session.user.email).toBe("ada@example.com");
    expect(created.event.title).toBe("Svelte meetup");
    expect(listed.events.map((e) => e.id)).toContain(created.event.id);
    expect(invalid.code).toBe("invalid_argument");
    expect(invalid.details.map((d) => d.type)).toContain("google.rpc.BadRequest");
  });

  it("serves Connect GET with an HTTP status curl can check", async () => {
    const { stdout } = await run("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `${server.baseUrl}/grouppe.v1.EventService/GetEvent?encoding=json&message=${encodeURIComponent('{"id":"not-a-uuid"}')}`,
    ]);
    expect(stdout).toBe("400");
  });

  it("speaks gRPC to curl over h2c with prior knowledge", async () => {
    // An empty HealthCheckRequest: a 5-byte gRPC envelope with length 0.
    const { stdout } = await run("bash", [
      "-c",
      `printf '\\x00\\x00\\x00\\x00\\x00' | curl -s --http2-prior-knowledge -o /dev/null -D - -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- ${server.baseUrl}/grpc.health.v1.Health/Check`,
    ]);
    expect(stdout).toMatch(/^HTTP\/2 200/);
    expect(stdout).toMatch(/grpc-status: 0/);
  });
});
