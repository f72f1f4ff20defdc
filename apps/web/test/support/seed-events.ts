import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { AuthService, CreateEventRequestSchema, EventService } from "@grouppe/api";
import { createTransport } from "../../src/lib/api/api-clients.js";

function bearer(token: string) {
  return { headers: { Authorization: `Bearer ${token}` } };
}

/**
 * Fills a server with a few realistic events, people going and a waitlist, through the public
 * API, so screenshots show the pages as people will see them. Returns the event ids.
 */
export async function seedEvents(baseUrl: string): Promise<string[]> {
  const transport = createTransport("connect", baseUrl);
  const auth = createClient(AuthService, transport);
  const events = createClient(EventService, transport);
  const stamp = Date.now();
  const signUp = async (displayName: string) => {
    const { session } = await auth.signUp({
      displayName,
      email: `${displayName.toLowerCase().replace(/\W+/g, ".")}.${stamp}@example.com`,
      password: "correct horse battery",
    });
    if (!session) throw new Error("SignUp returned no session");
    return session.accessToken;
  };
  const organizer = await signUp("Mina Okafor");
  const day = 86_400_000;
  const base = Math.ceil(Date.now() / day) * day + 3 * day;
  const plans = [
    {
      title: "Sunrise run along the Landwehrkanal",
      description:
        "An easy 8 km loop at conversation pace. We finish with coffee at the bakery on the corner.\n\nAll paces welcome — nobody gets left behind.",
      start: base + 5 * 3_600_000,
      hours: 2,
      timeZone: "Europe/Berlin",
      location: { case: "address" as const, value: "Urbanhafen, 10967 Berlin" },
      capacity: 3,
    },
    {
      title: "Intro to protobuf APIs (online)",
      description: "One schema, every client: Connect, gRPC and gRPC-Web from one port.",
      start: base + day + 16 * 3_600_000,
      hours: 1.5,
      timeZone: "America/New_York",
      location: { case: "onlineUrl" as const, value: "https://meet.example.com/protobuf-intro" },
      capacity: 0,
    },
    {
      title: "Board game night",
      description: "Bring your favourite game or learn a new one.",
      start: base + 2 * day + 18 * 3_600_000,
      hours: 4,
      timeZone: "Europe/Lisbon",
      location: { case: "address" as const, value: "Rua da Rosa 57, Lisboa" },
      capacity: 12,
    },
  ];
  const ids: string[] = [];
  for (const plan of plans) {
    const { event } = await events.createEvent(
      create(CreateEventRequestSchema, {
        event: {
          title: plan.title,
          description: plan.description,
          startsAt: timestampFromDate(new Date(plan.start)),
          endsAt: timestampFromDate(new Date(plan.start + plan.hours * 3_600_000)),
          timeZone: plan.timeZone,
          location: { kind: plan.location },
          capacity: plan.capacity,
        },
      }),
      bearer(organizer),
    );
    if (!event) throw new Error("CreateEvent returned no event");
    ids.push(event.id);
  }
  const first = ids[0] ?? "";
  for (const name of ["Ari Levi", "Bea Santos", "Chen Wei", "Dana Novak", "Emil Berg"]) {
    await events.joinEvent({ eventId: first }, bearer(await signUp(name)));
  }
  return ids;
}
