/**
 * Why a domain rule refused a request. `errors.ts` maps each reason to a status code and a
 * google.rpc.ErrorInfo; the reason string is the ErrorInfo reason clients can switch on.
 */
export type DomainReason =
  | "EVENT_NOT_FOUND"
  | "ETAG_MISMATCH"
  | "CAPACITY_BELOW_ATTENDANCE"
  | "EVENT_CANCELLED"
  | "EVENT_ENDED"
  | "EVENT_IN_PAST"
  | "INVALID_TIME_ZONE"
  | "TIMESTAMP_OUT_OF_RANGE"
  | "EMAIL_TAKEN"
  | "USER_NOT_FOUND";

export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly reason: DomainReason,
    message: string,
    /** The resource field at fault, in protobuf naming (e.g. "capacity"); the service adds the request prefix. */
    readonly field?: string,
  ) {
    super(message);
  }
}
