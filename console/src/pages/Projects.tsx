/** 项目: the projects the caller may read (an owner's own, by library), filterable and linkable by URL. */
import { Link, useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Checkbox, Input, Segmented, Space, Table, Tag } from 'antd';
import { get } from '../api';
import { PageTitle, QueryView, useOrgName, useSession } from '../components/common';
import { formatDateTime, formatWan, LIBRARIES, stageLabel } from '../format';

interface ProjectRow {
  projectId: string;
  name: string;
  stage: string;
  library: string;
  county: string;
  portfolio: string;
  ownerOrg: string;
  totalInvestmentYuan?: number;
  flags: Record<string, boolean>;
  openTasks: number;
  updatedAt: string;
}

const PAGE_SIZE = 20;

export default function ProjectsPage() {
  const session = useSession();
  const orgName = useOrgName();
  const [params, setParams] = useSearchParams();
  const library = params.get('library') ?? '';
  const q = params.get('q') ?? '';
  const overdue = params.get('overdue') === 'true';
  const cursor = params.get('cursor') ?? '';
  // The cursors of the pages before this one, so 上一页 works from a shared link too.
  const trail = (params.get('trail') ?? '').split(',').filter(Boolean);
  const list = useQuery({
    queryKey: ['projects', library, q, overdue, cursor],
    queryFn: () =>
      get<{ projects: ProjectRow[]; nextCursor: string | null }>('/projects', {
        library,
        q,
        overdue: overdue ? 'true' : undefined,
        cursor,
        limit: PAGE_SIZE,
      }),
  });
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('cursor' in changes)) {
      next.delete('cursor');
      next.delete('trail');
    }
    setParams(next);
  };
  const applicant = session?.roles.includes('applicant');
  return (
    <>
      <PageTitle
        extra={
          applicant ? (
            <Link to="/projects/new">
              <Button type="primary">新建项目</Button>
            </Link>
          ) : undefined
        }
      >
        {applicant ? '我的项目' : '项目'}
      </PageTitle>
      <Card>
        <Space wrap style={{ marginBottom: 16 }}>
          <Segmented
            aria-label="项目库"
            value={library || '全部'}
            onChange={(v) => set({ library: v === '全部' ? '' : String(v) })}
            options={['全部', ...LIBRARIES.map((l) => l), '已竣工', '已出库'].map((l) => ({
              value: l,
              label: l === '全部' || l.startsWith('已') ? l : `${l}库`,
            }))}
          />
          <Input.Search
            aria-label="搜索项目名称或编号"
            placeholder="项目名称或编号"
            allowClear
            defaultValue={q}
            onSearch={(v) => set({ q: v.trim() })}
            style={{ width: 240 }}
          />
          <Checkbox checked={overdue} onChange={(e) => set({ overdue: e.target.checked ? 'true' : '' })}>
            有逾期事项
          </Checkbox>
        </Space>
        <QueryView query={list}>
          {(data) => (
            <>
              <Table
                data-testid="projects-table"
                rowKey="projectId"
                dataSource={data.projects}
                pagination={false}
                scroll={{ x: 900 }}
                locale={{ emptyText: '暂无项目' }}
                columns={[
                  {
                    title: '项目名称',
                    dataIndex: 'name',
                    render: (n: string, r) => <Link to={`/projects/${r.projectId}`}>{n}</Link>,
                  },
                  { title: '所在库', dataIndex: 'library', width: 90 },
                  {
                    title: '阶段',
                    dataIndex: 'stage',
                    width: 110,
                    render: (s: string, r) => (
                      <>
                        {stageLabel(s)}
                        {r.flags?.overdue && (
                          <Tag color="red" style={{ marginLeft: 4 }}>
                            逾期
                          </Tag>
                        )}
                      </>
                    ),
                  },
                  {
                    title: '县（市、区）',
                    dataIndex: 'county',
                    width: 130,
                    render: (c: string) => orgName(c),
                  },
                  {
                    title: '总投资（万元）',
                    dataIndex: 'totalInvestmentYuan',
                    width: 140,
                    align: 'right',
                    render: (y?: number) => formatWan(y),
                  },
                  { title: '待办', dataIndex: 'openTasks', width: 70, align: 'right' },
                  {
                    title: '更新时间',
                    dataIndex: 'updatedAt',
                    width: 190,
                    render: (d: string) => formatDateTime(d),
                  },
                ]}
              />
              <Space style={{ marginTop: 16 }}>
                <Button
                  disabled={!cursor}
                  onClick={() => {
                    const prev = trail.slice(0, -1);
                    set({
                      cursor: trail[trail.length - 1] === '-' ? '' : (trail[trail.length - 1] ?? ''),
                      trail: prev.join(','),
                    });
                  }}
                >
                  上一页
                </Button>
                <Button
                  disabled={!data.nextCursor}
                  onClick={() =>
                    set({ cursor: data.nextCursor ?? '', trail: [...trail, cursor || '-'].join(',') })
                  }
                >
                  下一页
                </Button>
              </Space>
            </>
          )}
        </QueryView>
      </Card>
    </>
  );
}
