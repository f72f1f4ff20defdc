import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "@grouppe/api/rpc";

/**
 * The sentences people see when a call fails. Everything the UI says about a failed call comes
 * from here, so no screen ever shows a status code or a server message meant for developers.
 */
const sentencesByReason: Readonly<Record<string, string>> = {
  EVENT_NOT_FOUND: "This event doesn't exist any more. It may have been deleted.",
  ETAG_MISMATCH: "Someone else changed this event — reload to see their changes, then try again.",
  CAPACITY_BELOW_ATTENDANCE:
    "More people already hold a seat than that capacity allows. Choose a larger number.",
  EVENT_CANCELLED: "This event was cancelled, so RSVPs are closed.",
  EVENT_ENDED: "This event is over, so it can't be changed or joined any more.",
  EVENT_IN_PAST: "The event can't start in the past.",
  INVALID_TIME_ZONE: "That time zone isn't one we recognise. Choose one from the list.",
  EMAIL_TAKEN: "An account with this email address already exists. Try logging in instead.",
  USER_NOT_FOUND: "We couldn't find that account.",
  INVALID_CREDENTIALS: "That email address and password don't match an account.",
  TOKEN_EXPIRED: "Your session has ended. Please log in again.",
  TOKEN_INVALID: "Your session has ended. Please log in again.",
  REFRESH_TOKEN_INVALID: "Your session has ended. Please log in again.",
  REFRESH_TOKEN_REUSED:
    "For your safety you were signed out everywhere, because your session was used from two places. Please log in again.",
};

const sentencesByCode: Readonly<Record<Code, string>> = {
  [Code.Canceled]: "The request was stopped before it finished.",
  [Code.Unknown]: "Something went wrong. Please try again.",
  [Code.InvalidArgument]: "Some of what you entered needs another look.",
  [Code.DeadlineExceeded]: "The server took too long to answer. Please try again.",
  [Code.NotFound]: "We couldn't find what you were looking for. It may have been deleted.",
  [Code.AlreadyExists]: "That already exists.",
  [Code.PermissionDenied]: "Only the event's organizer can do that.",
  [Code.ResourceExhausted]: "You're going a little fast. Wait a moment, then try again.",
  [Code.FailedPrecondition]: "That isn't possible right now.",
  [Code.Aborted]: "This changed while you were working on it. Reload and try again.",
  [Code.OutOfRange]: "That value is out of range.",
  [Code.Unimplemented]: "This server doesn't support that yet.",
  [Code.Internal]: "Something went wrong on our side. Please try again in a moment.",
  [Code.Unavailable]: "We can't reach grouppe right now. Check your connection and try again.",
  [Code.DataLoss]: "Something went wrong on our side. Please try again in a moment.",
  [Code.Unauthenticated]: "Please log in to do that.",
};

/** The google.rpc.ErrorInfo reason of a failed call, if the server sent one. */
export function errorReason(error: unknown): string | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  return error.findDetails(ErrorInfoSchema)[0]?.reason || undefined;
}

/**
 * Whether the call never reached the server or lost it midway: fetch rejects with a TypeError
 * for network failures, which Connect reports as UNKNOWN with that TypeError as the cause.
 */
export function isNetworkFailure(error: ConnectError): boolean {
  return (
    error.code === Code.Unavailable ||
    (error.code === Code.Unknown && error.cause instanceof TypeError)
  );
}

/** One or two sentences, for a person, about why a call failed. */
export function describeError(error: unknown): string {
  const connectError = ConnectError.from(error);
  if (isNetworkFailure(connectError)) return sentencesByCode[Code.Unavailable];
  const info = connectError.findDetails(ErrorInfoSchema)[0];
  const byReason = info ? sentencesByReason[info.reason] : undefined;
  if (byReason) return byReason;
  if (connectError.code === Code.ResourceExhausted) {
    const seconds = Number(connectError.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds ?? 0);
    if (seconds > 0) {
      return `You're going a little fast. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`;
    }
  }
  const sentence = sentencesByCode[connectError.code] ?? sentencesByCode[Code.Unknown];
  const requestId = info?.metadata.requestId;
  if (connectError.code === Code.Internal && requestId) {
    return `${sentence} If it keeps happening, mention reference ${requestId}.`;
  }
  return sentence;
}
