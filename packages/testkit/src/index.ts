export { chromiumAvailable, chromiumPath, launchChromium, testContextOptions } from "./chromium.js";
export { type EventuallyOptions, eventually } from "./eventually.js";
export { nextMessage } from "./next-message.js";
export { createTestDatabase, postgresAvailable } from "./postgres.js";
export {
  pseudoTerminalAvailable,
  runInPseudoTerminal,
  scriptPath,
  type TerminalOptions,
  type TerminalResult,
} from "./pseudo-terminal.js";
export { createTestPki, type TestIdentity, type TestPki } from "./test-pki.js";
