/** The administrator's pages: the work calendar, the policy in force with its sources, the people directory. */
import { Navigate, Route, Routes } from 'react-router-dom';
import { Forbidden } from '../../components/common';
import { ExpertPoolPage } from '../leader/experts';
import { CalendarsPage } from './calendars';
import { PolicyPage } from './policy';
import { PeoplePage } from './people';

export default function AdminPages() {
  return (
    <Routes>
      <Route index element={<Navigate to="calendars" replace />} />
      <Route path="calendars" element={<CalendarsPage />} />
      <Route path="policy" element={<PolicyPage />} />
      <Route path="people" element={<PeoplePage />} />
      <Route path="experts" element={<ExpertPoolPage />} />
      <Route path="*" element={<Forbidden detail="没有这个页面。" />} />
    </Routes>
  );
}
