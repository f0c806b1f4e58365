import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { Skeleton } from 'antd';
import { Shell, homeOf } from './Shell';
import { SignInPage } from './pages/SignIn';
import { Forbidden, useSession } from './components/common';
import type { Role } from './session';

// Each role's pages load when first opened: an applicant's browser never fetches the charts.
const ProjectsPage = lazy(() => import('./pages/Projects'));
const ProjectPage = lazy(() => import('./pages/Project'));
const ProjectFormPage = lazy(() => import('./pages/ProjectForm'));
const ProgressReportPage = lazy(() => import('./pages/ProgressReport'));
const InboxPage = lazy(() => import('./pages/Inbox'));
const TaskPage = lazy(() => import('./pages/Task'));
const ImportsPage = lazy(() => import('./pages/Imports'));
const ImportPage = lazy(() => import('./pages/Imports').then((m) => ({ default: m.ImportPage })));
const SupervisorPages = lazy(() => import('./pages/supervisor'));
const LeaderPages = lazy(() => import('./pages/leader'));
const AdminPages = lazy(() => import('./pages/admin'));

/** A page only these roles use: others get 无权访问 (and the API refuses them anyway). */
function For({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const session = useSession();
  if (!session) return null;
  return session.roles.some((r) => roles.includes(r)) ? <>{children}</> : <Forbidden />;
}

function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (!session) {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  return <>{children}</>;
}

export function App() {
  const session = useSession();
  return (
    <Routes>
      <Route path="/sign-in" element={<SignInPage />} />
      <Route path="/sign-in/callback" element={<SignInPage callback />} />
      <Route
        path="/*"
        element={
          <RequireSession>
            <Shell>
              <Suspense fallback={<Skeleton active />}>
                <Routes>
                  <Route
                    path="/"
                    element={<Navigate to={session ? homeOf(session.roles) : '/sign-in'} replace />}
                  />
                  <Route path="/projects" element={<ProjectsPage />} />
                  <Route
                    path="/projects/new"
                    element={
                      <For roles={['applicant']}>
                        <ProjectFormPage />
                      </For>
                    }
                  />
                  <Route path="/projects/:id" element={<ProjectPage />} />
                  <Route
                    path="/projects/:id/edit"
                    element={
                      <For roles={['applicant']}>
                        <ProjectFormPage />
                      </For>
                    }
                  />
                  <Route
                    path="/projects/:id/progress-report"
                    element={
                      <For roles={['applicant']}>
                        <ProgressReportPage />
                      </For>
                    }
                  />
                  <Route
                    path="/inbox"
                    element={
                      <For roles={['reviewer', 'leader', 'applicant']}>
                        <InboxPage />
                      </For>
                    }
                  />
                  <Route path="/tasks/:taskId" element={<TaskPage />} />
                  <Route
                    path="/imports"
                    element={
                      <For roles={['applicant', 'reviewer', 'supervisor', 'admin']}>
                        <ImportsPage />
                      </For>
                    }
                  />
                  <Route
                    path="/imports/:importId"
                    element={
                      <For roles={['applicant', 'reviewer', 'supervisor', 'admin']}>
                        <ImportPage />
                      </For>
                    }
                  />
                  <Route
                    path="/supervision/*"
                    element={
                      <For roles={['supervisor', 'admin', 'leader']}>
                        <SupervisorPages />
                      </For>
                    }
                  />
                  <Route
                    path="/leader/*"
                    element={
                      <For roles={['leader']}>
                        <LeaderPages />
                      </For>
                    }
                  />
                  <Route
                    path="/admin/*"
                    element={
                      <For roles={['admin']}>
                        <AdminPages />
                      </For>
                    }
                  />
                  <Route path="*" element={<Forbidden detail="没有这个页面，或您无权访问。" />} />
                </Routes>
              </Suspense>
            </Shell>
          </RequireSession>
        }
      />
    </Routes>
  );
}
