import type { Child } from 'hono/jsx';
import { SEED } from '../seed.ts';

const STYLE = `
body{font-family:"Segoe UI",system-ui,sans-serif;margin:0;color:#242424;background:#faf9f8}
header{background:#0f6cbd;color:#fff;padding:8px 16px;display:flex;justify-content:space-between}
header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:16px 24px;max-width:1100px}
nav.breadcrumb{font-size:13px;margin-bottom:12px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:8px;border-bottom:1px solid #e0e0e0;font-size:14px}
button,.button{font:inherit;padding:4px 10px;cursor:pointer}
[role=tablist]{display:flex;gap:16px;border-bottom:1px solid #ccc;margin:12px 0}
[role=tab]{padding:6px 2px;text-decoration:none;color:#242424}
[role=tab][aria-selected=true]{border-bottom:2px solid #0f6cbd;font-weight:600}
[role=dialog]{position:fixed;top:0;right:0;bottom:0;width:420px;background:#fff;box-shadow:-4px 0 12px #0003;padding:20px}
.secret-value{font-family:Consolas,monospace}
label{display:block;margin-top:12px;font-weight:600}
`;

/** The chrome every portal page shares: the tenant's name (there is no sign-in on loopback) and a breadcrumb. */
export function Layout(props: { title: string; crumbs: Array<[string, string]>; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{`${props.title} - Microsoft Entra admin center (sandbox)`}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <header>
          <a href="/">Microsoft Entra admin center</a>
          <span aria-label="Tenant">
            {SEED.tenantName} ({SEED.defaultDomain})
          </span>
        </header>
        <main>
          <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href="/">Home</a>
            {props.crumbs.map(([href, text]) => (
              <>
                {' > '}
                <a href={href}>{text}</a>
              </>
            ))}
          </nav>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}
