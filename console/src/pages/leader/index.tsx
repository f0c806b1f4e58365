/** The leader's pages (专项推进组 and 领导小组): lists of tiers 2 and 3, the joint meeting, removals, the pool. */
import { Navigate, Route, Routes } from 'react-router-dom';
import { Forbidden } from '../../components/common';
import { RecommendationsPage } from './recommendations';
import { KeyProjectsPage } from './key-projects';
import { JointMeetingsPage } from './joint-meetings';
import { ProposalsPage } from './proposals';
import { ExpertPoolPage } from './experts';

export default function LeaderPages() {
  return (
    <Routes>
      <Route index element={<Navigate to="recommendations" replace />} />
      <Route path="recommendations" element={<RecommendationsPage />} />
      <Route path="key-projects" element={<KeyProjectsPage />} />
      <Route path="joint-meetings" element={<JointMeetingsPage />} />
      <Route path="proposals" element={<ProposalsPage />} />
      <Route path="experts" element={<ExpertPoolPage />} />
      <Route path="*" element={<Forbidden detail="没有这个页面。" />} />
    </Routes>
  );
}
