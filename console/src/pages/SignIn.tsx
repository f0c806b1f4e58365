import { useEffect, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Form, Input, Select, Skeleton, Typography } from 'antd';
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';
import { get, request } from '../api';
import { signIn, type Role } from '../session';
import { ROLE_LABELS } from '../format';
import { ProblemAlert, showFieldErrors } from '../components/common';
import { homeOf } from '../Shell';

interface SignInConfig {
  mode: 'local' | 'oidc' | 'token';
  oidc?: { issuer: string; clientId: string; scope: string };
  organisations?: { id: string; name: string; kind: string }[];
  roles: Role[];
}

const KIND_LABELS: Record<string, string> = {
  LEADING_GROUP: '领导小组',
  SPECIAL_GROUP: '专项推进组',
  DEPARTMENT: '市直部门',
  SUPERVISION: '督查',
  PROJECT_OFFICE: '项目办',
  COUNTY: '县（市、区）',
};

function oidcManager(cfg: NonNullable<SignInConfig['oidc']>): UserManager {
  // Authorization code with PKCE (oidc-client-ts does both); state kept for this tab only.
  return new UserManager({
    authority: cfg.issuer,
    client_id: cfg.clientId,
    redirect_uri: `${window.location.origin}/sign-in/callback`,
    response_type: 'code',
    scope: cfg.scope,
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
  });
}

function safeNext(next: string | null): string | null {
  // Only a path of this console: never an absolute URL someone put in a link.
  return next && next.startsWith('/') && !next.startsWith('//') ? next : null;
}

export function SignInPage({ callback = false }: { callback?: boolean }) {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [form] = Form.useForm<{ org: string; role: Role; userId: string; name: string; token?: string }>();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const config = useQuery({
    queryKey: ['session-config'],
    queryFn: () => get<SignInConfig>('/session/config'),
  });
  const next = safeNext(params.get('next'));

  const enter = (token: string) => {
    const s = signIn(token);
    void navigate(next ?? homeOf(s.roles), { replace: true });
  };

  useEffect(() => {
    if (!callback || !config.data?.oidc) return;
    oidcManager(config.data.oidc)
      .signinRedirectCallback()
      .then((user) => {
        const s = signIn(user.access_token);
        const back = safeNext((user.state as string | undefined) ?? null);
        void navigate(back ?? homeOf(s.roles), { replace: true });
      })
      .catch((err: unknown) => setError(err));
  }, [callback, config.data, navigate]);

  if (config.isPending) return <Skeleton active />;
  const cfg = config.data;
  const orgs = cfg?.organisations ?? [];
  const kinds = [...new Set(orgs.map((o) => o.kind))];

  return (
    <div
      style={{
        minHeight: '100vh',
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'center',
        background: '#f0f2f5',
        padding: 16,
      }}
    >
      <Card
        style={{ width: 440, maxWidth: '100%' }}
        title={<h1 style={{ fontSize: 20, margin: 0 }}>重大项目全链条管理系统 · 登录</h1>}
      >
        {params.get('expired') && (
          <Alert type="info" showIcon message="登录已失效，请重新登录" style={{ marginBottom: 16 }} />
        )}
        {config.isError && <ProblemAlert error={config.error} onRetry={() => void config.refetch()} />}
        {error !== null && <ProblemAlert error={error} />}
        {cfg?.mode === 'oidc' && cfg.oidc && (
          <Button
            type="primary"
            block
            loading={busy}
            onClick={() => {
              setBusy(true);
              oidcManager(cfg.oidc!)
                .signinRedirect({ state: next ?? undefined })
                .catch((err: unknown) => {
                  setBusy(false);
                  setError(err);
                });
            }}
          >
            通过统一身份认证登录
          </Button>
        )}
        {cfg?.mode === 'local' && (
          <>
            <Alert
              type="warning"
              showIcon
              style={{ marginBottom: 16 }}
              message="本地登录"
              description="仅用于本机部署：选择单位和角色即可进入，不校验密码。正式环境通过统一身份认证登录。"
              data-testid="local-sign-in-banner"
            />
            <Form
              form={form}
              layout="vertical"
              requiredMark
              onFinish={(values) => {
                setBusy(true);
                setError(null);
                request<{ token: string }>('POST', '/session/local', {
                  body: { org: values.org, role: values.role, userId: values.userId, name: values.name },
                })
                  .then((r) => enter(r.token))
                  .catch((err: unknown) => setError(showFieldErrors(form, err)))
                  .finally(() => setBusy(false));
              }}
            >
              <Form.Item label="单位" name="org" rules={[{ required: true, message: '请选择单位' }]}>
                <Select
                  showSearch
                  optionFilterProp="label"
                  placeholder="选择所在单位"
                  options={kinds.map((k) => ({
                    label: KIND_LABELS[k] ?? k,
                    title: KIND_LABELS[k] ?? k,
                    options: orgs.filter((o) => o.kind === k).map((o) => ({ value: o.id, label: o.name })),
                  }))}
                />
              </Form.Item>
              <Form.Item label="角色" name="role" rules={[{ required: true, message: '请选择角色' }]}>
                <Select
                  options={cfg.roles.map((r) => ({ value: r, label: ROLE_LABELS[r] }))}
                  placeholder="选择角色"
                />
              </Form.Item>
              <Form.Item
                label="用户名"
                name="userId"
                rules={[
                  { required: true, message: '请输入用户名' },
                  { pattern: /^[A-Za-z0-9._-]{2,64}$/, message: '2–64 位字母、数字、点、横线或下划线' },
                ]}
              >
                <Input autoComplete="username" placeholder="如 wang.li" />
              </Form.Item>
              <Form.Item label="姓名" name="name" rules={[{ required: true, message: '请输入姓名' }]}>
                <Input autoComplete="name" placeholder="如 王丽" maxLength={50} />
              </Form.Item>
              <Button type="primary" htmlType="submit" block loading={busy}>
                登录
              </Button>
            </Form>
          </>
        )}
        {cfg?.mode === 'token' && (
          <Form
            layout="vertical"
            onFinish={(v: { token: string }) => {
              try {
                enter(v.token.trim());
              } catch (err) {
                setError(err);
              }
            }}
          >
            <Typography.Paragraph>
              本系统未配置统一身份认证，请粘贴管理员发放的访问令牌。
            </Typography.Paragraph>
            <Form.Item label="访问令牌" name="token" rules={[{ required: true, message: '请粘贴令牌' }]}>
              <Input.TextArea rows={4} />
            </Form.Item>
            <Button type="primary" htmlType="submit" block>
              登录
            </Button>
          </Form>
        )}
      </Card>
    </div>
  );
}
