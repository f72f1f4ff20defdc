export {
  createTestDataDir,
  type ServerProcess,
  serverMain,
  startServerProcess,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from "../../src/testing/index.js";
