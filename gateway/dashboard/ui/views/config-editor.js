/**
 * The configuration editor: load a document (kind and scope) with its history, edit it as JSON
 * and save a new version (`If-Match` on the version loaded, so a concurrent save is refused).
 */
import { api } from '../lib/api.js';
import { html, useState } from '../lib/html.js';

const documentPath = (kind, scope) => `/v1/config/${kind}/${encodeURIComponent(scope)}`;

export function ConfigEditor() {
  const [kind, setKind] = useState('edge');
  const [scope, setScope] = useState('global');
  const [text, setText] = useState('');
  const [version, setVersion] = useState(undefined);
  const [info, setInfo] = useState('');
  const [history, setHistory] = useState([]);
  const [result, setResult] = useState('');

  const load = async () => {
    const versions = (await api(`${documentPath(kind, scope)}/history`)).body.versions ?? [];
    const last = versions[0];
    setVersion(last?.version);
    setInfo(last ? `version ${last.version} by ${last.createdBy}` : 'no document yet');
    setText(JSON.stringify(last?.body ?? {}, null, 2));
    setHistory(versions);
  };
  const save = async () => {
    try {
      const { body } = await api(documentPath(kind, scope), {
        method: 'PUT',
        body: text,
        headers: version ? { 'if-match': `"${version}"` } : {},
      });
      setResult(`saved as version ${body.version}`);
      await load();
    } catch (e) {
      setResult(e.message);
    }
  };
  const value = (set) => (e) => set(e.currentTarget.value);

  return html`<section>
    <h2>Configuration</h2>
    <select id="c-kind" value=${kind} onChange=${value(setKind)}>
      <option>edge</option><option>devicehub</option><option>screen</option>
    </select>${' '}
    <input id="c-scope" value=${scope} size="24" onInput=${value(setScope)} />${' '}
    <button class="plain" id="c-load" onClick=${() => load().catch((e) => setInfo(e.message))}>Load</button>
    <p class="muted" id="c-info">${info}</p>
    <textarea id="c-body" rows="10" value=${text} onInput=${value(setText)}></textarea>
    <button id="c-save" onClick=${save}>Save a new version</button> <span id="c-result">${result}</span>
    <h2 class="spaced">History</h2>
    <pre id="c-history">${history.map((v) => `v${v.version}  ${v.createdAt}  ${v.createdBy}`).join('\n')}</pre>
  </section>`;
}
