/** 督查: the supervision pages under /supervision (supervisors, administrators, leaders). */
import { Navigate, Route, Routes } from 'react-router-dom';
import { Forbidden } from '../../components/common';
import DashboardPage from './Dashboard';
import OverduePage from './Overdue';
import DataQualityPage from './DataQuality';
import MissingReportsPage from './MissingReports';
import ReportsPage from './Reports';
import ReportPage from './Report';

export default function SupervisorPages() {
  return (
    <Routes>
      <Route index element={<Navigate to="dashboard" replace />} />
      <Route path="dashboard" element={<DashboardPage />} />
      <Route path="overdue" element={<OverduePage />} />
      <Route path="data-quality" element={<DataQualityPage />} />
      <Route path="missing-reports" element={<MissingReportsPage />} />
      <Route path="reports" element={<ReportsPage />} />
      <Route path="reports/:id" element={<ReportPage />} />
      <Route path="*" element={<Forbidden detail="没有这个页面。" />} />
    </Routes>
  );
}
