import { buildWorkCalendar, type CalendarYear } from '../../calendar';
import { loadWorkCalendar } from '../../activities/deadlines';
import type { ApiDeps } from '../app';
import { ApiError } from '../problem';
import { route, type AnyRouteSpec } from '../registry';
import * as S from '../schemas';

/** Calendar administration: each load is a new version; earlier versions stay to explain old deadlines. */
export function adminRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const { CalendarYear, CalendarOverrides } = deps.calendarModels;
  return [
    route({
      method: 'get',
      path: '/calendars',
      summary: '工作日历：covered years, loaded official arrangements (all versions) and local overrides',
      tag: 'Administration',
      roles: ['admin', 'supervisor'],
      success: { status: 200, description: 'Calendar coverage and versions' },
      handler: async () => {
        const { calendar, version } = await loadWorkCalendar(deps.calendarModels);
        return {
          version,
          coveredYears: calendar.coveredYears(),
          loaded: await CalendarYear.find().lean(),
          overrides: (await CalendarOverrides.findById('local').lean()) ?? { version: 0, overrides: [] },
        };
      },
    }),
    route({
      method: 'put',
      path: '/calendars/:year',
      summary: '加载年度节假日安排：load a year’s official holiday arrangement (a new version)',
      tag: 'Administration',
      roles: ['admin'],
      params: S.CalendarYearParams,
      body: S.CalendarYearBody,
      bodyExample: S.EXAMPLES.calendarYear,
      success: { status: 200, description: 'The stored version' },
      problems: [422],
      handler: async ({ params, body, actor }) => {
        const existing = await CalendarYear.findById(String(params.year)).lean();
        const entry: CalendarYear = {
          year: params.year,
          holidays: body.holidays,
          makeupWorkdays: body.makeupWorkdays,
          noticeNumber: body.noticeNumber,
          source: 'official',
          version: (existing?.versions.length ?? 0) + 1,
        };
        try {
          buildWorkCalendar([entry]); // validates dates, years and make-up days before anything is stored
        } catch (err) {
          throw new ApiError(422, 'invalid-data', 'Invalid data', (err as Error).message, {
            errorType: 'INVALID_DATA',
          });
        }
        const stored = { ...entry, loadedAt: new Date(), loadedBy: actor.userId };
        await CalendarYear.updateOne(
          { _id: String(params.year) },
          { $push: { versions: stored } },
          { upsert: true },
        );
        return stored;
      },
    }),
    route({
      method: 'post',
      path: '/calendars/overrides',
      summary: '本地调整：add a local working-day override (a new version of the override list)',
      tag: 'Administration',
      roles: ['admin'],
      body: S.CalendarOverrideBody,
      bodyExample: S.EXAMPLES.calendarOverride,
      success: { status: 200, description: 'The override list with its new version' },
      problems: [422],
      handler: async ({ body, actor }) => {
        const current = (await CalendarOverrides.findById('local').lean()) ?? { version: 0, overrides: [] };
        const next = [
          ...current.overrides.filter((o) => o.date !== body.date),
          { ...body, addedAt: new Date(), addedBy: actor.userId },
        ];
        try {
          buildWorkCalendar([], next);
        } catch (err) {
          throw new ApiError(422, 'invalid-data', 'Invalid data', (err as Error).message, {
            errorType: 'INVALID_DATA',
          });
        }
        const doc = { version: current.version + 1, overrides: next };
        await CalendarOverrides.updateOne({ _id: 'local' }, { $set: doc }, { upsert: true });
        return doc;
      },
    }),
  ];
}
