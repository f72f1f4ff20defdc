import type { DescFile } from "@bufbuild/protobuf";
import { file_grouppe_v1_auth_service } from "./gen/grouppe/v1/auth_service_pb.js";
import { file_grouppe_v1_calendar_service } from "./gen/grouppe/v1/calendar_service_pb.js";
import { file_grouppe_v1_event_service } from "./gen/grouppe/v1/event_service_pb.js";

/** The files that declare grouppe's services; their imports lead to every other file. */
export const apiFiles: readonly DescFile[] = [
  file_grouppe_v1_event_service,
  file_grouppe_v1_auth_service,
  file_grouppe_v1_calendar_service,
];
