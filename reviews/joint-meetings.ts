/**
 * The leading group's monthly joint meeting (月度联席会议, seed annex 1 一(一) and 二(二)3): held on the last
 * working day of the month, postponed (顺延) when it must be. Tier-3 reviews wait for it: their deadline is the
 * day it is held (activities/deadlines.ts reads the postponed day), and the meeting decides them.
 */
import { loadWorkCalendar, addMonths } from '../activities/deadlines';
import { endOfShanghaiDayMs, shanghaiDayOf } from '../calendar';
import type { CalendarModels, JointMeetingDoc, MeetingPostponement } from '../db/calendar-models';
import type { Models } from '../db/models';
import { isDuplicateKey } from '../db/errors';

export class MeetingError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'EXISTS' | 'HELD' | 'INVALID',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const meetingTitle = (month: string) =>
  `${month.slice(0, 4)}年${Number(month.slice(5, 7))}月月度联席会议`;

/** An open tier-3 review waiting in the leading group's inbox. */
export interface WaitingReview {
  taskId: string;
  projectId: string;
  projectName: string;
  dueDay: string | null;
  escalationLevel: number;
}

export function createJointMeetings(deps: {
  calendarModels: CalendarModels;
  models: Models;
  leadingGroup: string;
}) {
  const { JointMeeting } = deps.calendarModels;

  async function get(month: string): Promise<JointMeetingDoc> {
    const m = await JointMeeting.findById(month).lean();
    if (!m) throw new MeetingError('NOT_FOUND', `no joint meeting of ${month} (POST /joint-meetings)`);
    return m;
  }

  /** The leading group's open tier-3 reviews, from its inbox (one small document per open task). */
  async function waitingReviews(): Promise<WaitingReview[]> {
    const items = await deps.models.inboxOf(deps.leadingGroup).find({ kind: 'REVIEW', tier: 3 }).lean();
    return items
      .map((i) => ({
        taskId: i._id,
        projectId: i.projectId,
        projectName: i.projectName,
        dueDay: i.dueAt ? shanghaiDayOf(new Date(i.dueAt).getTime()) : null,
        escalationLevel: i.escalationLevel,
      }))
      .sort((a, b) => (a.dueDay ?? '9').localeCompare(b.dueDay ?? '9') || a.taskId.localeCompare(b.taskId));
  }

  return {
    get,
    waitingReviews,

    /**
     * Scheduled on `date` when the leading group names a day of the month, else on the month's last working day by
     * the work calendar (a year without data is refused).
     */
    async create(month: string, by: string, date?: string): Promise<JointMeetingDoc> {
      let scheduledOn: string;
      if (date !== undefined) {
        if (date.slice(0, 7) !== month)
          throw new MeetingError('INVALID', `the meeting of ${month} is held in ${month}`, 'date');
        scheduledOn = date;
      } else {
        const { calendar } = await loadWorkCalendar(deps.calendarModels);
        try {
          scheduledOn = calendar.lastWorkingDayOfMonth(Number(month.slice(0, 4)), Number(month.slice(5, 7)));
        } catch (err) {
          throw new MeetingError('INVALID', (err as Error).message, 'month');
        }
      }
      const at = new Date();
      const doc: JointMeetingDoc = {
        _id: month,
        title: meetingTitle(month),
        scheduledOn,
        date: scheduledOn,
        postponements: [],
        createdBy: by,
        createdAt: at,
        updatedAt: at,
      };
      try {
        await JointMeeting.create(doc);
      } catch (err) {
        if (isDuplicateKey(err)) throw new MeetingError('EXISTS', `the joint meeting of ${month} exists`);
        throw err;
      }
      return doc;
    },

    /**
     * 顺延: to a later day, no later than the end of the next month (the seed's month-end meeting may slip into the
     * next month; a longer delay is a new meeting). A meeting already held stays where it was. The same
     * postponement sent again (a retry) changes nothing and answers as the first time.
     */
    async postpone(
      month: string,
      to: string,
      reason: string,
      by: string,
      today: string,
    ): Promise<{ meeting: JointMeetingDoc; postponement: MeetingPostponement; index: number }> {
      const m = await get(month);
      const last = m.postponements.at(-1);
      if (last && last.to === to && last.reason === reason && last.by === by && m.date === to)
        return { meeting: m, postponement: last, index: m.postponements.length - 1 };
      if (m.date < today)
        throw new MeetingError('HELD', `the joint meeting of ${month} was held on ${m.date}`);
      if (to <= m.date)
        throw new MeetingError('INVALID', `a postponement moves the meeting after ${m.date}`, 'to');
      const limit = shanghaiDayOf(endOfShanghaiDayMs(`${addMonths(month, 2)}-01`) - 86_400_000);
      if (to > limit)
        throw new MeetingError(
          'INVALID',
          `the meeting of ${month} can be postponed until ${limit} at most`,
          'to',
        );
      const postponement: MeetingPostponement = { from: m.date, to, reason, by, at: new Date() };
      // Guarded by the day read above: two postponements at once cannot both move it.
      const res = await JointMeeting.updateOne(
        { _id: month, date: m.date },
        { $push: { postponements: postponement }, $set: { date: to, updatedAt: postponement.at } },
      );
      if (res.matchedCount === 0)
        throw new MeetingError(
          'INVALID',
          `the joint meeting of ${month} was moved meanwhile; read it again`,
          'to',
        );
      return { meeting: await get(month), postponement, index: m.postponements.length };
    },

    /** The reviews a postponement from `from` can move: those due that day or later (or not yet scheduled). */
    async reviewsWaitingFrom(from: string): Promise<WaitingReview[]> {
      return (await waitingReviews()).filter((r) => r.dueDay === null || r.dueDay >= from);
    },
  };
}

export type JointMeetings = ReturnType<typeof createJointMeetings>;
