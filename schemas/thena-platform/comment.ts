/**
 * A Platform comment (`GET /v1/comments?entityType=ticket&entityId=<ticketId>`). The record
 * does not name its ticket: the caller knows it from the request.
 *
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.7.
 */
import { z } from 'zod'

const text = z.string().nullish()
const flag = z.boolean().nullish()
const timestamp = z.iso.datetime({ offset: true }).nullish()

export const CommentSchema = z.looseObject({
  id: z.string().min(1),
  content: text,
  contentHtml: text,
  /** A rich-text document, as a JSON string or an object (not documented which). */
  contentJson: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  contentMarkdown: text,
  isEdited: flag,
  threadName: text,
  /** `public` or `private`. */
  commentVisibility: text,
  /** E.g. `comment`, `note`, `reply`. */
  commentType: text,
  isPinned: flag,
  sourceEmailId: text,
  metadata: z
    .looseObject({
      mentions: z.array(z.unknown()).nullish(),
      userReactions: z.array(z.unknown()).nullish(),
    })
    .nullish(),
  parentCommentId: text,
  createdAt: timestamp,
  updatedAt: timestamp,
  /** The author's name. */
  author: text,
  authorId: text,
  /** E.g. `ORG_ADMIN`, `USER`, `CUSTOMER_USER`. */
  authorUserType: text,
  customerContactId: text,
  customerContactEmail: text,
  customerContactFirstName: text,
  customerContactLastName: text,
  customerContactAvatarUrl: text,
  authorAvatarUrl: text,
  impersonatedUserEmail: text,
  impersonatedUserName: text,
  impersonatedUserAvatar: text,
  attachments: z.array(z.looseObject({})).nullish(),
  deletedAt: timestamp,
})

export type Comment = z.infer<typeof CommentSchema>
