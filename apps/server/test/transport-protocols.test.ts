import { describeTransportProtocols } from "./support/transport-protocols-suite.js";

// The default: @grouppe/engine serves every call but bidi streams.
describeTransportProtocols({});
