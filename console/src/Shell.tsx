import { useState, type ReactNode } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Badge, Button, Drawer, Grid, Layout, Menu, Space, Tag, Tooltip, type MenuProps } from 'antd';
import { MenuOutlined } from '@ant-design/icons';
import { get } from './api';
import { signOut, type Role } from './session';
import { ROLE_LABELS } from './format';
import { useNow, useOrgName, useSession } from './components/common';
import type { InboxTask } from './types';

interface MenuEntry {
  path: string;
  label: string;
}

/** Each role's menu: only what the role may use (the API refuses the rest all the same). */
const MENUS: Record<Role, MenuEntry[]> = {
  applicant: [
    { path: '/projects', label: '我的项目' },
    { path: '/projects/new', label: '新建项目' },
    { path: '/imports', label: '批量导入' },
    { path: '/inbox', label: '待办' },
  ],
  reviewer: [
    { path: '/inbox', label: '待办' },
    { path: '/projects', label: '项目' },
  ],
  leader: [
    { path: '/inbox', label: '待办' },
    { path: '/leader/recommendations', label: '建议清单' },
    { path: '/leader/key-projects', label: '重点项目库与资金分配' },
    { path: '/leader/joint-meetings', label: '联席会议' },
    { path: '/leader/proposals', label: '调出建议' },
    { path: '/leader/experts', label: '专家库' },
    { path: '/supervision/reports', label: '报告' },
    { path: '/projects', label: '项目' },
  ],
  supervisor: [
    { path: '/supervision/dashboard', label: '总览' },
    { path: '/supervision/overdue', label: '逾期清单' },
    { path: '/supervision/data-quality', label: '数据质量' },
    { path: '/supervision/missing-reports', label: '月报缺报' },
    { path: '/supervision/reports', label: '报告' },
    { path: '/projects', label: '项目' },
    { path: '/imports', label: '存量项目导入' },
  ],
  admin: [
    { path: '/admin/calendars', label: '工作日历' },
    { path: '/admin/policy', label: '策略' },
    { path: '/admin/people', label: '人员' },
    { path: '/admin/experts', label: '专家库' },
    { path: '/supervision/reports', label: '报告' },
    { path: '/projects', label: '项目' },
  ],
};

export function homeOf(roles: Role[]): string {
  const first = roles[0];
  return first ? (MENUS[first][0]?.path ?? '/projects') : '/projects';
}

function menuOf(roles: Role[]): MenuEntry[] {
  const seen = new Set<string>();
  return roles.flatMap((r) => MENUS[r]).filter((e) => !seen.has(e.path) && seen.add(e.path));
}

/** The overdue count in the header: the caller's organisation's open tasks past their deadline. */
function OverdueCount() {
  const inbox = useQuery({
    queryKey: ['inbox'],
    queryFn: () => get<{ org: string; tasks: InboxTask[] }>('/tasks'),
    refetchInterval: 60_000,
  });
  const now = useNow();
  const overdue = (inbox.data?.tasks ?? []).filter(
    (t) => t.dueAt && new Date(t.dueAt).getTime() < now,
  ).length;
  return (
    <Tooltip title="本单位逾期待办">
      <Link to="/inbox?overdue=1" aria-label={`逾期待办 ${overdue} 项`}>
        <Badge count={overdue} showZero color={overdue ? '#cf1322' : '#8c8c8c'} data-testid="overdue-count">
          <span style={{ color: '#fff', paddingRight: 12 }}>逾期</span>
        </Badge>
      </Link>
    </Tooltip>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const session = useSession();
  const orgName = useOrgName();
  const location = useLocation();
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const [drawer, setDrawer] = useState(false);
  if (!session) return null;
  const entries = menuOf(session.roles);
  const selected =
    entries
      .filter((e) => location.pathname === e.path || location.pathname.startsWith(`${e.path}/`))
      .sort((a, b) => b.path.length - a.path.length)[0]?.path ?? '';
  const items: MenuProps['items'] = entries.map((e) => ({
    key: e.path,
    label: <Link to={e.path}>{e.label}</Link>,
  }));
  const menu = (
    <Menu
      mode="inline"
      theme="dark"
      selectedKeys={[selected]}
      items={items}
      onClick={() => setDrawer(false)}
      aria-label="主菜单"
    />
  );
  const wide = screens.lg !== false;
  const hasInbox = session.roles.some((r) => r === 'reviewer' || r === 'leader' || r === 'applicant');
  return (
    <Layout style={{ minHeight: '100vh' }}>
      {wide && (
        <Layout.Sider width={200} theme="dark">
          <div style={{ color: '#fff', padding: '16px 16px 8px', fontWeight: 600, lineHeight: 1.4 }}>
            重大项目全链条管理
          </div>
          <nav>{menu}</nav>
        </Layout.Sider>
      )}
      <Drawer
        open={!wide && drawer}
        onClose={() => setDrawer(false)}
        placement="left"
        width={220}
        styles={{ body: { padding: 0, background: '#001529' } }}
        title="菜单"
      >
        {menu}
      </Drawer>
      <Layout>
        <Layout.Header
          style={{
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'space-between',
            padding: '0 16px',
            gap: 8,
          }}
        >
          <Space>
            {!wide && (
              <Button icon={<MenuOutlined />} onClick={() => setDrawer(true)} aria-label="打开菜单" />
            )}
            <span style={{ color: '#fff' }}>{orgName(session.org)}</span>
            <Tag color="gold">{session.roles.map((r) => ROLE_LABELS[r]).join('、')}</Tag>
          </Space>
          <Space size="middle">
            {hasInbox && <OverdueCount />}
            <span style={{ color: '#fff' }} data-testid="signed-in-as">
              {session.name ?? session.userId}
            </span>
            <Button
              size="small"
              onClick={() => {
                signOut();
                void navigate('/sign-in', { replace: true });
              }}
            >
              退出
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: wide ? 24 : 12 }}>
          <main>{children}</main>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
