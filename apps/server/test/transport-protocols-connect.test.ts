import { describeTransportProtocols } from "./support/transport-protocols-suite.js";

// The escape hatch: connect-es serves every call, with the same behaviour.
describeTransportProtocols({ GROUPPE_ENGINE: "connect" });
