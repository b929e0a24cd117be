import { Router } from 'express';

type OpenApi = {
  info: { title: string; version: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
};

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function docsPage(doc: OpenApi): string {
  const sections = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const body = (op.requestBody as { content?: Record<string, { schema: unknown }> } | undefined)
        ?.content?.['application/json']?.schema;
      const params = (op.parameters as { name: string; in: string; required: boolean }[]) ?? [];
      const responses = Object.entries(
        op.responses as Record<
          string,
          { description: string; content?: Record<string, { schema: unknown }> }
        >,
      );
      return `<section>
  <h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2>
  <p>${escape(String(op.summary ?? ''))}</p>
  ${op.description ? `<p class="d">${escape(String(op.description))}</p>` : ''}
  ${params.length ? `<p><b>Parameters:</b> ${params.map((p) => `<code>${escape(p.name)}</code> (${p.in}${p.required ? ', required' : ''})`).join(', ')}</p>` : ''}
  ${body ? `<details><summary>Request body</summary><pre>${escape(JSON.stringify(body, null, 2))}</pre></details>` : ''}
  ${responses
    .map(
      ([status, r]) =>
        `<details><summary>${status}: ${escape(r.description)}</summary>${r.content ? `<pre>${escape(JSON.stringify(r.content['application/json']?.schema, null, 2))}</pre>` : ''}</details>`,
    )
    .join('\n  ')}
</section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${escape(doc.info.title)} API</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
section{border-top:1px solid #dde;padding:.6rem 0}h2{font-size:1.05rem;margin:.3rem 0}
.m{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .3rem}
.get{background:#2f7d32}.post{background:#1f5fbf}.patch{background:#a66a00}.delete{background:#b3261e}
pre{background:#f5f6f8;padding:.6rem;overflow:auto;font-size:.8rem}.d{color:#556}
</style></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>Every <code>/v1</code> route needs <code>Authorization: Bearer &lt;api key&gt;</code>. Errors are
<code>{"error": {"code", "message", "request_id"}}</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${sections.join('\n')}
</body></html>`;
}

/** `/openapi.json` and `/docs`, a readable page rendered from the same document. */
export function docsRoutes(doc: OpenApi): Router {
  const router = Router();
  const page = docsPage(doc);
  router.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(page);
  });
  return router;
}
