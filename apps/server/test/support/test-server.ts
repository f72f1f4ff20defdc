export {
  createTestDataDir,
  serverMain,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from "../../src/testing/index.js";
