import { z } from 'zod';

/**
 * `join:` of a connector instance or a source: how that system's accounts map to people. Said once per system,
 * because a system's naming (IAM users named first.last, a tag holding the owner's address) is the system's, not a
 * control's or a check's; every control and check that reads the source joins its accounts the same way.
 */

const JoinTargetName = z.enum(['email', 'employeeId']);

export const SourceJoin = z.strictObject({
  /** The account's own email, and its username when that is an address. */
  email: z.boolean().default(true),
  /** Addresses the directory lists for the account (Google Workspace aliases). */
  aliases: z.boolean().default(true),
  /** `{username}@example.com`, or several; placeholders {username} and {localPart} (the username before its last @). */
  template: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  /** A field of the account's raw record (a dotted path) holding the owner's address, or with `matches: employeeId` their employee id. */
  attribute: z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), matches: JoinTargetName.default('email') })]).optional(),
  /** A tag of the account (AWS IAM user tags, read with ListUserTags) holding the owner's address or employee id. */
  tag: z.union([z.string().min(1), z.strictObject({ key: z.string().min(1), matches: JoinTargetName.default('email') })]).optional(),
  /** A CSV file, relative to the config file, with columns account and email (or account and employeeId): the exceptions. */
  mappingFile: z.string().min(1).optional(),
  ignorePlusAddressing: z.boolean().default(true),
});
export type SourceJoin = z.infer<typeof SourceJoin>;
