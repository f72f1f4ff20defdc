// Test fixtures for grouppe's own suites and for anyone testing against a real grouppe server.
export {
  type ServerProcess,
  type ServerProcessOptions,
  startServerProcess,
} from "./start-server-process.js";
export {
  createTestDataDir,
  serverMain,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from "./start-test-server.js";
