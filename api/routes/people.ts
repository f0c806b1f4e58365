import { z } from 'zod';
import { putPerson, type PersonDoc } from '../../db/people';
import { redactUrl } from '../../notifications/senders';
import type { ApiDeps } from '../app';
import { ROLES, type Role } from '../auth';
import { ApiError } from '../problem';
import { route, type AnyRouteSpec } from '../registry';
import * as S from '../schemas';

/** Whoever names a 包联领导 (owners, the import, revisions) must be able to find its id: every role reads. */
const READERS = ROLES;

type PersonView = z.infer<typeof S.PersonView>;

/** A person as `roles` may see them: channels only for administrators, and never a secret or a URL's query. */
function viewOf(p: PersonDoc, roles: readonly Role[]): PersonView {
  const view: PersonView = { id: p._id, name: p.name, post: p.post, org: p.org, headOf: p.headOf ?? [] };
  if (!roles.includes('admin')) return view;
  return {
    ...view,
    channels: {
      emails: p.channels?.emails ?? [],
      webhooks: (p.channels?.webhooks ?? []).map((w) => ({ url: redactUrl(w.url) })),
    },
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}

function badField(path: string, message: string): ApiError {
  return new ApiError(400, 'validation', 'Validation failed', 'the request body is invalid', {
    errors: [{ in: 'body', path, message }],
  });
}

/** The people directory: 包联领导 and unit heads (负责人), whom escalations reach on their own channels. */
export function peopleRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const { People } = deps.models;
  return [
    route({
      method: 'get',
      path: '/people',
      summary:
        '人员名录：包联领导 and unit heads — id, name, post (职务), organisation, organisations headed',
      tag: 'People',
      roles: READERS,
      query: S.PeopleQuery,
      success: {
        status: 200,
        description: 'People by id; administrators also see each person’s channels (no secrets)',
        schema: z.object({ people: z.array(S.PersonView) }),
      },
      handler: async ({ query, actor }) => {
        const people = await People.find(query.org ? { org: query.org } : {})
          .sort({ _id: 1 })
          .lean();
        return { people: people.map((p) => viewOf(p, actor.roles)) };
      },
    }),
    route({
      method: 'get',
      path: '/people/:personId',
      summary: '人员：one person of the directory',
      tag: 'People',
      roles: READERS,
      params: S.PersonIdParams,
      success: { status: 200, description: 'The person', schema: S.PersonView },
      problems: [404],
      handler: async ({ params, actor }) => {
        const person = await People.findById(params.personId).lean();
        if (!person)
          throw new ApiError(404, 'not-found', 'Not found', `no person ${params.personId} in the directory`);
        return viewOf(person, actor.roles);
      },
    }),
    route({
      method: 'put',
      path: '/people/:personId',
      summary:
        '维护人员：create or replace a person (name, post, organisation, organisations headed, channels)',
      tag: 'People',
      roles: ['admin'],
      params: S.PersonIdParams,
      body: S.PersonBody,
      bodyExample: S.PERSON_EXAMPLE,
      success: { status: 200, description: 'The person as stored (no secrets)', schema: S.PersonView },
      problems: [409],
      handler: async ({ params, body, actor }) => {
        const id = params.personId;
        if (!deps.orgIndex.has(body.org)) throw badField('org', 'must be an organisation of the policy');
        const headOf = [...new Set(body.headOf)];
        headOf.forEach((org, i) => {
          if (!deps.orgIndex.has(org)) throw badField(`headOf.${i}`, 'must be an organisation of the policy');
        });
        // One head per organisation, or an L1 escalation could not say whose desk it lands on.
        for (const org of headOf) {
          const other = await People.findOne({ headOf: org, _id: { $ne: id } }, { _id: 1, name: 1 }).lean();
          if (other)
            throw new ApiError(409, 'conflict', 'Conflict', `${org} already has a head: ${other._id}`, {
              errors: [{ in: 'body', path: 'headOf', message: `${org} is headed by ${other._id}` }],
            });
        }
        // A webhook sent without its secret keeps the one stored for the same URL (secrets are never read back).
        const stored = await People.findById(id).lean();
        const webhooks: PersonDoc['channels']['webhooks'] = [];
        for (const [i, w] of body.channels.webhooks.entries()) {
          if (webhooks.some((x) => x.url === w.url)) continue;
          const secret = w.secret ?? stored?.channels?.webhooks.find((x) => x.url === w.url)?.secret;
          if (!secret)
            throw badField(`channels.webhooks.${i}.secret`, 'a new webhook needs its signing secret');
          webhooks.push({ url: w.url, secret });
        }
        const person = await putPerson(People, {
          _id: id,
          name: body.name,
          post: body.post,
          org: body.org,
          headOf,
          channels: { emails: [...new Set(body.channels.emails)], webhooks },
          updatedBy: actor.userId,
        });
        return viewOf(person, actor.roles);
      },
    }),
  ];
}
