/** Google's standard error details (`google.rpc`): ErrorInfo, BadRequest, RetryInfo and more. */
export * from "./gen/google/rpc/error_details_pb.js";
