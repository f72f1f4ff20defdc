import { randomUUID } from "node:crypto";
import { createClient, type Transport } from "@connectrpc/connect";
import { AuthService } from "@grouppe/api";

/** Signs a new user up (unique email) and returns call options carrying their access token. */
export async function signUp(
  transport: Transport,
  name: string,
): Promise<{ headers: { authorization: string } }> {
  const { session } = await createClient(AuthService, transport).signUp({
    email: `${name.toLowerCase()}-${randomUUID()}@example.com`,
    password: "correct horse battery",
    displayName: name,
  });
  if (!session) throw new Error("SignUp returned no session");
  return { headers: { authorization: `Bearer ${session.accessToken}` } };
}
