import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.History;
type ProtoJson = { fromJson(type: unknown, json: unknown, options: object): unknown; toJson(type: unknown, message: unknown): unknown };

/*
 * Recorded workflow histories in the proto3 JSON of `temporal workflow show --output json` and the Web UI's download.
 * The SDK's own historyFromJSON cannot be used here: @temporalio/common and @temporalio/proto each get a nested copy of
 * protobufjs 8 (the hoisted one is grpc's 7), so its `instanceof Type` fails with "type must be a Type". The JSON is
 * read with the protobufjs copy that built the proto types.
 */
const require = createRequire(import.meta.url);
const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot<T>(root: T): T & { lookupType(name: string): unknown };
};
const root = patchProtobufRoot(require('@temporalio/proto') as Record<string, unknown>);
const historyType = root.lookupType('temporal.api.history.v1.History');

export function loadHistory(url: URL): History {
  return protojson.fromJson(historyType, JSON.parse(readFileSync(url, 'utf8')), { ignoreUnknownFields: true }) as History;
}

/** A fetched history as the JSON a recorded fixture holds. */
export function historyJson(history: temporal.api.history.v1.IHistory): string {
  return `${JSON.stringify(protojson.toJson(historyType, temporal.api.history.v1.History.fromObject(history)), null, 2)}\n`;
}

/** The types of the activities a history scheduled, in order: what a replay test holds the recorded run to. */
export function scheduledActivities(history: temporal.api.history.v1.IHistory): (string | null | undefined)[] {
  return (history.events ?? []).flatMap((event) =>
    event.activityTaskScheduledEventAttributes ? [event.activityTaskScheduledEventAttributes.activityType?.name] : [],
  );
}

/** The started event of an activity's last attempt (a history records only that one): its attempt, worker and the failure before it. */
export function lastAttemptOf(history: temporal.api.history.v1.IHistory, activityType: string): temporal.api.history.v1.IActivityTaskStartedEventAttributes {
  const events = history.events ?? [];
  const scheduled = events.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === activityType);
  if (!scheduled) throw new Error(`the history scheduled no ${activityType}`);
  const started = events.find((event) => Number(event.activityTaskStartedEventAttributes?.scheduledEventId) === Number(scheduled.eventId));
  if (!started) throw new Error(`the history has no started event for ${activityType}`);
  return started.activityTaskStartedEventAttributes!;
}
