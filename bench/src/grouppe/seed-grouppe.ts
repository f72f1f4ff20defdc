import { randomBytes } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService, EventService } from "@grouppe/api";

/** A signed-in bench user. */
export interface BenchUser {
  userId: string;
  accessToken: string;
}

/** What the scenarios work on. */
export interface SeededData {
  /** Upcoming events, enough to fill a ListEvents page; the first is the GetEvent target. */
  eventIds: string[];
  /** Users of the JoinEvent/LeaveEvent scenario, each with the event it joins and leaves. */
  writers: { user: BenchUser; eventId: string }[];
  /** The event the fan-out scenario watches, and the users whose RSVPs change it. */
  fanout: { eventId: string; users: BenchUser[] };
}

/** How much to create. Fan-out users are the first writers, so users = max of the two. */
export interface SeedCounts {
  events: number;
  writers: number;
  fanoutUsers: number;
}

async function inBatches<T>(
  count: number,
  batch: number,
  make: (index: number) => Promise<T>,
): Promise<T[]> {
  const made: T[] = [];
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    made.push(
      ...(await Promise.all(Array.from({ length: size }, (_, offset) => make(start + offset)))),
    );
  }
  return made;
}

/** The header that signs a call in as `user`. */
export function bearer(user: BenchUser): Record<string, string> {
  return { authorization: `Bearer ${user.accessToken}` };
}

/**
 * Signs up users and creates events through grouppe's own API (AuthService.SignUp,
 * EventService.CreateEvent), exactly as clients would.
 */
export async function seedGrouppe(url: string, counts: SeedCounts): Promise<SeededData> {
  const transport = createConnectTransport({ baseUrl: url, httpVersion: "2" });
  const auth = createClient(AuthService, transport);
  const events = createClient(EventService, transport);
  const run = randomBytes(4).toString("hex");
  const signUp = async (label: string): Promise<BenchUser> => {
    const { session } = await auth.signUp({
      email: `bench-${run}-${label}@example.com`,
      password: "bench-password-1",
      displayName: `Bench ${label}`,
    });
    if (!session?.user) throw new Error("SignUp returned no session");
    return { userId: session.user.id, accessToken: session.accessToken };
  };
  const createEvent = async (organizer: BenchUser, index: number): Promise<string> => {
    const startsAt = new Date(Date.now() + 86_400_000 + index * 3_600_000);
    const { event } = await events.createEvent(
      {
        event: {
          title: `Bench event ${index}`,
          description: "Created by the grouppe bench.",
          startsAt: timestampFromDate(startsAt),
          endsAt: timestampFromDate(new Date(startsAt.getTime() + 2 * 3_600_000)),
          timeZone: "Europe/Berlin",
          location: { kind: { case: "address", value: `Bench street ${index}` } },
          capacity: 0,
        },
      },
      { headers: bearer(organizer) },
    );
    if (!event) throw new Error("CreateEvent returned no event");
    return event.id;
  };

  const organizer = await signUp("organizer");
  const eventIds = await inBatches(counts.events, 8, (index) => createEvent(organizer, index));
  const fanoutEventId = await createEvent(organizer, counts.events);
  // Signing up is slow by design (scrypt), so the fan-out reuses the writers on another event.
  const users = await inBatches(Math.max(counts.writers, counts.fanoutUsers), 8, (index) =>
    signUp(`user-${index}`),
  );
  return {
    eventIds,
    writers: users
      .slice(0, counts.writers)
      .map((user, index) => ({ user, eventId: eventIds[index % eventIds.length] ?? "" })),
    fanout: { eventId: fanoutEventId, users: users.slice(0, counts.fanoutUsers) },
  };
}
