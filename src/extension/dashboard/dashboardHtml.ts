/** The dashboard page: a strict CSP with a per-load nonce, and only the extension's own bundle. */
import { randomBytes } from 'node:crypto';
import type { DashboardStrings } from '../../protocol/dashboard';

export interface DashboardPageInput {
  /** `webview.cspSource`. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  strings: DashboardStrings;
  title: string;
  /** For tests; a fresh random nonce otherwise. */
  nonce?: string;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function dashboardHtml(input: DashboardPageInput): string {
  const nonce = input.nonce ?? randomBytes(16).toString('base64');
  // Lit-based controls use constructable stylesheets, which CSP does not restrict; the page's own CSS is a file.
  const csp = [
    "default-src 'none'",
    `img-src ${input.cspSource} data:`,
    `style-src ${input.cspSource}`,
    `font-src ${input.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(input.styleUri)}">
<title>${escapeAttribute(input.title)}</title>
</head>
<body data-strings="${escapeAttribute(JSON.stringify(input.strings))}">
<div id="app"></div>
<script nonce="${nonce}" src="${escapeAttribute(input.scriptUri)}"></script>
</body>
</html>
`;
}
