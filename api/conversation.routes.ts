import type { ConversationService } from '../core/conversations/conversation-service.ts';
import { ConversationPresenter } from './presenters/conversation.presenter.ts';
import { routeGroup, type RouteSpec } from './route-registry.ts';
import { uuidParam, type ApiSchemas } from './schemas.ts';

const conversationRoute = routeGroup({ tag: 'conversations', auth: 'user' });
const memoryRoute = routeGroup({ tag: 'memories', auth: 'user' });

/** `POST /v1/conversations` and the revisions it keeps: every route acts for the key's user. */
export function conversationRoutes(s: ApiSchemas, conversations: ConversationService): RouteSpec[] {
  const present = new ConversationPresenter(conversations);
  return [
    conversationRoute({
      method: 'post',
      path: '/v1/conversations',
      operationId: 'rememberConversation',
      summary: "Save what is worth remembering from a conversation's user turns",
      description:
        "Reads the user's messages only. With a model configured, one extraction call decides " +
        "each fact against the user's most similar memories: `created` (new), `updated` (a new " +
        'revision of a memory it changes; the old content is kept) or `skipped` as a `repeat`. ' +
        "Without one (or when it fails, `extraction.fallback` says why) the classifier's save " +
        "rule reads each sentence. A message's `at` becomes the `occurred_at` of what it states. " +
        'All of it is stored in one transaction before the answer (201 when a memory changed, ' +
        '200 when none did); indexing follows as for any save. Sending it again changes nothing.',
      body: s.conversationBody,
      responses: {
        201: { description: 'memories created or updated', schema: s.conversationOut },
        200: { description: 'nothing new to remember', schema: s.conversationOut },
      },
      handler: ({ body, userId }) => present.remember(userId, body),
    }),
    memoryRoute({
      method: 'get',
      path: '/v1/memories/:id/revisions',
      params: uuidParam,
      operationId: 'listMemoryRevisions',
      summary: 'What a memory said before a conversation revised it, newest first',
      responses: { 200: { description: 'the kept revisions', schema: s.revisionsOut } },
      handler: ({ params, userId }) => present.revisions(userId, params.id),
    }),
  ];
}
