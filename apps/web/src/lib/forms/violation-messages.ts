/**
 * Sentences for broken field rules, keyed by form field and rule id. The rules come from the
 * proto files; their own messages ("must be at least 1 characters") are written for
 * developers, so the fields people fill in get plain sentences here.
 */
const sentences: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  title: {
    "string.min_len": "Give your event a title.",
    "string.max_len": "Keep the title to 200 characters or fewer.",
  },
  description: {
    "string.max_len": "Keep the description to 5,000 characters or fewer.",
  },
  starts_at: {
    required: "Choose when the event starts.",
    EVENT_IN_PAST: "Choose a start time that hasn't passed yet.",
    "draft.datetime": "Enter a date and a time.",
  },
  ends_at: {
    required: "Choose when the event ends.",
    "event.ends_after_start": "The event has to end after it starts.",
    "draft.datetime": "Enter a date and a time.",
  },
  time_zone: {
    "*": "Choose a time zone from the list.",
  },
  location: {
    required: "Choose a venue or an online meeting.",
  },
  "location.address": {
    "string.min_len": "Enter where the event takes place.",
    "string.max_len": "Keep the address to 500 characters or fewer.",
  },
  "location.online_url": {
    "string.uri": "Enter a full web address, like https://meet.example.com/team.",
    "string.uri_empty": "Enter the web address where people meet.",
    "location.online_url.scheme": "The web address has to start with https:// or http://.",
    "string.max_len": "That web address is too long.",
  },
  capacity: {
    "int32.gte_lte": "Seats must be between 0 (no limit) and 100,000.",
    "int32.gte": "Seats can't be negative. Use 0 for no limit.",
    "int32.lte": "Seats can't be more than 100,000.",
    "draft.integer": "Enter a whole number of seats, or 0 for no limit.",
    CAPACITY_BELOW_ATTENDANCE:
      "More people already hold a seat than that. Choose at least as many seats as there are attendees.",
  },
  reason: {
    "string.max_len": "Keep the reason to 500 characters or fewer.",
  },
  email: {
    "string.email": "Enter an email address like name@example.com.",
    "string.email_empty": "Enter your email address.",
    "string.min_len": "Enter your email address.",
    "string.max_len": "That email address is too long.",
    EMAIL_TAKEN: "An account with this email address already exists. Try logging in instead.",
  },
  password: {
    "string.min_len": "Use at least 8 characters.",
    "string.max_len": "Use at most 128 characters.",
  },
  display_name: {
    "string.min_len": "Tell people what to call you.",
    "string.max_len": "Keep your name to 80 characters or fewer.",
  },
};

/**
 * The sentence for a broken rule on a form field, or the rule's own message with a capital
 * letter when there is no better one.
 */
export function friendlyViolationMessage(
  field: string | undefined,
  ruleId: string,
  fallback: string,
): string {
  const forField = field === undefined ? undefined : sentences[field];
  const sentence = forField?.[ruleId] ?? forField?.["*"];
  if (sentence) return sentence;
  const trimmed = fallback.trim();
  if (trimmed === "") return "This value isn't accepted.";
  const capitalised = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
