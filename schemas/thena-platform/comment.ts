/**
 * Changelog: v1 (2026-12): the fields in shared/reference/thena-api.md §7.7.
 */
import { z } from 'zod'

const text = z.string().nullish()
const flag = z.boolean().nullish()
const timestamp = z.iso.datetime({ offset: true }).nullish()

export const CommentSchema = z
  .looseObject({
    id: z.string().min(1),
    content: text,
    contentHtml: text,
    contentJson: z
      .union([z.string(), z.record(z.string(), z.unknown())])
      .nullish()
      .describe('A rich-text document, as a JSON string or an object (not documented which).'),
    contentMarkdown: text,
    isEdited: flag,
    threadName: text,
    commentVisibility: text.describe('`public` or `private`.'),
    commentType: text.describe('E.g. `comment`, `note`, `reply`.'),
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
    author: text.describe("The author's name."),
    authorId: text,
    authorUserType: text.describe('E.g. `ORG_ADMIN`, `USER`, `CUSTOMER_USER`.'),
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
  .describe(
    'A Platform comment (`GET /v1/comments?entityType=ticket&entityId=<ticketId>`). The record does not name its ticket: the caller knows it from the request.',
  )

export type Comment = z.infer<typeof CommentSchema>
