/** Signing in: paste an operator API key, kept in this browser. */
import { saveKey } from '../lib/api.js';
import { html, useState } from '../lib/html.js';

export function Login() {
  const [value, setValue] = useState('');
  const submit = (e) => {
    e.preventDefault();
    saveKey(value);
  };
  return html`<section>
    <h2>Sign in</h2>
    <p>Paste an operator API key (<code>devicehub gateway create-key --name me --scope operator</code>).</p>
    <form id="login" onSubmit=${submit}>
      <input id="k" size="60" placeholder="dhk_…" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} />${' '}
      <button>Use this key</button>
    </form>
  </section>`;
}
