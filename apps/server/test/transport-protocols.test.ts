import { describeTransportProtocols } from "./support/transport-protocols-suite.js";

// The default: @grouppe/engine serves unary and server-streaming calls.
describeTransportProtocols({});
