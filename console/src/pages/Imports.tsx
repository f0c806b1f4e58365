/**
 * 批量导入: upload the template's spreadsheet, then watch the import create its projects (a progress bar, the
 * rows refused and why). The list shows the organisation's imports (supervisors and administrators: all).
 */
import { useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { App, Button, Card, Descriptions, Form, Progress, Radio, Space, Table, Tag, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { download, get, upload } from '../api';
import { PageTitle, ProblemAlert, QueryView, useSession } from '../components/common';
import { formatDateTime } from '../format';

interface ImportJob {
  importId: string;
  status: 'REJECTED' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  mode: string;
  fileName: string | null;
  rows: number;
  valid: number;
  invalid: number;
  toCreate: number;
  created: number;
  progressPercent: number;
  problems?: { row: number; column: string | null; message: string }[];
  projects?: { row: number; projectId: string }[];
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const STATUS: Record<ImportJob['status'], { label: string; color: string }> = {
  RUNNING: { label: '导入中', color: 'processing' },
  COMPLETED: { label: '已完成', color: 'success' },
  REJECTED: { label: '未通过校验', color: 'warning' },
  FAILED: { label: '失败', color: 'error' },
};

function NewImport() {
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState<'all-or-nothing' | 'valid-only'>('all-or-nothing');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const { message } = App.useApp();
  return (
    <Card title="新的导入" size="small" style={{ marginBottom: 16 }}>
      {error !== null && <ProblemAlert error={error} />}
      <Form layout="vertical">
        <Form.Item label="导入文件（.xlsx 或 .csv，按导入模板填写）">
          <Space wrap>
            <Upload
              accept=".xlsx,.csv"
              maxCount={1}
              beforeUpload={(f) => {
                setFile(f);
                return false; // sent on 开始导入, not on pick
              }}
              onRemove={() => setFile(null)}
            >
              <Button icon={<UploadOutlined />}>选择文件</Button>
            </Upload>
            <Button
              onClick={() =>
                void download('/imports/template', { format: 'xlsx' }).catch((e: unknown) => setError(e))
              }
            >
              下载导入模板
            </Button>
          </Space>
        </Form.Item>
        <Form.Item label="有错误行时">
          <Radio.Group
            value={mode}
            onChange={(e) => setMode(e.target.value as typeof mode)}
            options={[
              { value: 'all-or-nothing', label: '整批不导入' },
              { value: 'valid-only', label: '只导入正确的行' },
            ]}
          />
        </Form.Item>
        <Button
          type="primary"
          disabled={!file}
          loading={busy}
          onClick={() => {
            if (!file) return;
            setBusy(true);
            setError(null);
            upload<ImportJob>('/imports', file, { mode, fileName: file.name })
              .then((job) => {
                if (job.status === 'REJECTED') message.warning('文件中有错误行，未导入');
                else message.success('已开始导入');
                void navigate(`/imports/${job.importId}`);
              })
              .catch((err: unknown) => setError(err))
              .finally(() => setBusy(false));
          }}
        >
          开始导入
        </Button>
      </Form>
    </Card>
  );
}

export function ImportPage() {
  const { importId = '' } = useParams();
  const job = useQuery({
    queryKey: ['import', importId],
    queryFn: () => get<ImportJob>(`/imports/${importId}`),
    // Polled while the import runs, then left alone.
    refetchInterval: (q) => (q.state.data?.status === 'RUNNING' ? 1000 : false),
  });
  return (
    <QueryView query={job}>
      {(j) => (
        <>
          <PageTitle extra={<Link to="/imports">全部导入</Link>}>导入 {j.fileName ?? j.importId}</PageTitle>
          <Card size="small">
            <Progress
              percent={j.progressPercent}
              status={
                j.status === 'FAILED' || j.status === 'REJECTED'
                  ? 'exception'
                  : j.status === 'COMPLETED'
                    ? 'success'
                    : 'active'
              }
              aria-label="导入进度"
            />
            <Descriptions size="small" column={{ xs: 1, md: 3 }} style={{ marginTop: 12 }}>
              <Descriptions.Item label="状态">
                <Tag color={STATUS[j.status].color}>{STATUS[j.status].label}</Tag>
              </Descriptions.Item>
              <Descriptions.Item label="行数">{j.rows}</Descriptions.Item>
              <Descriptions.Item label="正确 / 错误">
                {j.valid} / {j.invalid}
              </Descriptions.Item>
              <Descriptions.Item label="已创建">
                {j.created} / {j.toCreate}
              </Descriptions.Item>
              <Descriptions.Item label="开始">{formatDateTime(j.createdAt)}</Descriptions.Item>
              <Descriptions.Item label="结束">{formatDateTime(j.finishedAt)}</Descriptions.Item>
            </Descriptions>
            {j.error && <ProblemAlert error={new Error(j.error)} />}
          </Card>
          {(j.problems?.length ?? 0) > 0 && (
            <Card title="错误行" size="small" style={{ marginTop: 16 }}>
              <Table
                size="small"
                rowKey={(p) => `${p.row}-${p.column}-${p.message}`}
                dataSource={j.problems}
                pagination={{ pageSize: 20 }}
                columns={[
                  { title: '行', dataIndex: 'row', width: 70 },
                  { title: '列', dataIndex: 'column', width: 160, render: (c: string | null) => c ?? '—' },
                  { title: '问题', dataIndex: 'message' },
                ]}
              />
            </Card>
          )}
          {(j.projects?.length ?? 0) > 0 && (
            <Card title="创建的项目" size="small" style={{ marginTop: 16 }}>
              <Table
                size="small"
                rowKey="row"
                dataSource={j.projects}
                pagination={{ pageSize: 20 }}
                columns={[
                  { title: '行', dataIndex: 'row', width: 70 },
                  {
                    title: '项目',
                    dataIndex: 'projectId',
                    render: (id: string) => <Link to={`/projects/${id}`}>{id}</Link>,
                  },
                ]}
              />
            </Card>
          )}
        </>
      )}
    </QueryView>
  );
}

export default function ImportsPage() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const page = Number(params.get('page') ?? '1') || 1;
  const list = useQuery({ queryKey: ['imports'], queryFn: () => get<{ imports: ImportJob[] }>('/imports') });
  const mayImport = session?.roles.some((r) => r === 'applicant' || r === 'reviewer' || r === 'supervisor');
  return (
    <>
      <PageTitle>批量导入</PageTitle>
      {mayImport && <NewImport />}
      <Card title="导入记录" size="small">
        <QueryView query={list}>
          {(d) => (
            <Table
              size="small"
              rowKey="importId"
              dataSource={d.imports}
              scroll={{ x: 700 }}
              locale={{ emptyText: '暂无导入' }}
              pagination={{
                current: page,
                pageSize: 20,
                onChange: (p) => setParams(p === 1 ? {} : { page: String(p) }),
              }}
              columns={[
                {
                  title: '文件',
                  dataIndex: 'fileName',
                  render: (n: string | null, j) => (
                    <Link to={`/imports/${j.importId}`}>{n ?? j.importId}</Link>
                  ),
                },
                {
                  title: '状态',
                  dataIndex: 'status',
                  width: 110,
                  render: (s: ImportJob['status']) => <Tag color={STATUS[s].color}>{STATUS[s].label}</Tag>,
                },
                { title: '行数', dataIndex: 'rows', width: 70 },
                {
                  title: '进度',
                  width: 160,
                  render: (_, j) => <Progress percent={j.progressPercent} size="small" />,
                },
                {
                  title: '开始',
                  dataIndex: 'createdAt',
                  width: 180,
                  render: (t: string) => formatDateTime(t),
                },
              ]}
            />
          )}
        </QueryView>
      </Card>
    </>
  );
}
