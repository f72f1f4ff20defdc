/** What the web tests add to the server fixture's defaults: no log noise, a short drain. */
export const quietServer: Record<string, string> = {
  LOG_LEVEL: "silent",
  GROUPPE_SHUTDOWN_GRACE_MS: "500",
};
