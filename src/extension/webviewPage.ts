/**
 * HTML of the extension's webviews (dashboard, Pack Statistics, Playground): a strict CSP with a
 * per-load nonce, the extension's own script and style only, and the localized strings as a JSON
 * data attribute.
 */
import { randomBytes } from 'node:crypto';

export interface WebviewPageInput {
  /** `webview.cspSource`. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  strings: Record<string, string>;
  title: string;
  /** BCP 47 language of the strings, such as `vscode.env.language`. */
  language?: string;
  /** For tests; a fresh random nonce otherwise. */
  nonce?: string;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function webviewPage(input: WebviewPageInput): string {
  const nonce = input.nonce ?? randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${input.cspSource} data:`,
    `style-src ${input.cspSource}`,
    `font-src ${input.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeAttribute(input.language ?? 'en')}">
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
