// Test fixtures for grouppe's own suites and for anyone testing against a real grouppe server.
export {
  createTestDataDir,
  serverMain,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from "./start-test-server.js";
