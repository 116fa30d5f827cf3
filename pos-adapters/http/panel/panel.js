// The cashier panel: follows the till's state on /panel/events and shows it.
// Plain JavaScript, no framework and nothing from the network but this server.
'use strict';

(function () {
  const TEXTS = {
    fr: {
      hello: 'Bonjour',
      waiting: 'En attente d’un client…',
      recognized: 'Client reconnu',
      unrecognized: 'Client non reconnu',
      no_basket_customer: 'Ce panier n’est rattaché à aucun client.',
      rewards: 'Sur ce panier',
      no_rewards: 'Pas de récompense sur ce panier.',
      total_discount: 'Économie totale : {amount}',
      progress: 'Vers les prochaines récompenses',
      no_progress: 'Aucune récompense en cours.',
      suggestions: 'À dire au client',
      goodwill: 'Geste commercial',
      budget_left: 'Budget restant : {amount}',
      no_goodwill: 'Geste commercial non configuré',
      no_budget: 'Plus de budget aujourd’hui',
      needs_basket: 'Pendant un panier en cours',
      amount: 'Montant ({currency})',
      reason: 'Motif',
      grant: 'Accorder',
      cancel: 'Annuler',
      sending: 'Envoi…',
      bad_amount: 'Montant invalide : par exemple 1,50',
      reason_needed: 'Indiquez un motif.',
      granted: 'Geste accordé : {amount}',
      granted_less: 'Geste accordé : {amount} seulement (le panier ne permettait pas plus).',
      connected: 'Connecté',
      connecting: 'Connexion…',
      offline: 'Connexion perdue, nouvelle tentative…',
      no_token: 'Adresse sans jeton : ouvrir /panel/#token=…',
      token_refused: 'Jeton refusé par le service',
      refused_title: 'Panneau non autorisé',
      refused_detail: 'Le service refuse le jeton de cette adresse : rien n’est affiché. ' +
          'Rouvrir le panneau depuis la caisse, ou demander le jeton au responsable.',
      no_token_detail: 'Cette adresse ne porte pas de jeton : rien n’est affiché. ' +
          'Ouvrir le panneau depuis la caisse (/panel/#token=…).',
      over_budget: 'Ce montant dépasse le budget de geste restant.',
      network_error: 'Le service ne répond pas.',
      toggle: 'English',
      toggle_label: 'Switch to English',
      ev_evaluate: 'Panier en cours',
      ev_commit: 'Vente enregistrée',
      ev_recognize: 'Client scanné',
      ev_void: 'Vente annulée',
      ev_refund: 'Retour',
      ev_goodwill: 'Geste commercial accordé',
      ev_idle: '',
      unknown_card: 'Carte inconnue : pas encore inscrite.',
      invalid_card: 'Numéro de carte invalide.',
      unrecognized_scan: 'Code scanné non reconnu.',
      qr_expired: 'QR code expiré : demander au client de le rafraîchir.',
      unknown_payment_card: 'Carte bancaire non liée à un client.',
      customer_lookup_failed: 'Le siège n’a pas répondu à temps pour cette carte.',
    },
    en: {
      hello: 'Hello',
      waiting: 'Waiting for a customer…',
      recognized: 'Recognized customer',
      unrecognized: 'Customer not recognized',
      no_basket_customer: 'This basket has no customer.',
      rewards: 'On this basket',
      no_rewards: 'No reward on this basket.',
      total_discount: 'Total saved: {amount}',
      progress: 'Towards the next rewards',
      no_progress: 'No reward under way.',
      suggestions: 'Worth telling the customer',
      goodwill: 'Goodwill gesture',
      budget_left: 'Budget left: {amount}',
      no_goodwill: 'Goodwill not configured',
      no_budget: 'No budget left today',
      needs_basket: 'During a basket',
      amount: 'Amount ({currency})',
      reason: 'Reason',
      grant: 'Grant',
      cancel: 'Cancel',
      sending: 'Sending…',
      bad_amount: 'Invalid amount: for example 1.50',
      reason_needed: 'Give a reason.',
      granted: 'Gesture granted: {amount}',
      granted_less: 'Gesture granted: only {amount} (the basket left no more to take off).',
      connected: 'Connected',
      connecting: 'Connecting…',
      offline: 'Connection lost, retrying…',
      no_token: 'No token in the address: open /panel/#token=…',
      token_refused: 'Token refused by the service',
      refused_title: 'This panel is not authorized',
      refused_detail: 'The service refuses this address’s token: nothing is shown. ' +
          'Open the panel again from the till, or ask the manager for the token.',
      no_token_detail: 'This address carries no token: nothing is shown. ' +
          'Open the panel from the till (/panel/#token=…).',
      over_budget: 'This amount is more than the goodwill budget left.',
      network_error: 'The service does not answer.',
      toggle: 'Français',
      toggle_label: 'Passer en français',
      ev_evaluate: 'Basket in progress',
      ev_commit: 'Sale recorded',
      ev_recognize: 'Customer scanned',
      ev_void: 'Sale voided',
      ev_refund: 'Refund',
      ev_goodwill: 'Goodwill gesture granted',
      ev_idle: '',
      unknown_card: 'Unknown card: not enrolled yet.',
      invalid_card: 'Invalid card number.',
      unrecognized_scan: 'Scanned code not recognized.',
      qr_expired: 'QR code expired: ask the customer to refresh it.',
      unknown_payment_card: 'Payment card not linked to a customer.',
      customer_lookup_failed: 'Headquarters did not answer in time for this card.',
    },
  };

  // Currencies whose minor unit is not the hundredth (ISO 4217); every other has cents.
  const MINOR_DIGITS = {
    BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0,
    UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
    BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  };
  // One way to write money per language, the one the server's sentences use too.
  const LOCALES = { fr: 'fr-FR', en: 'en-US' };

  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token') || '';
  const cashierId = params.get('cashier') || '';
  let lang = pickLang(params.get('lang'));
  let state = null;      // the last state shown (the server's panel JSON)
  let lastSeq = -1;      // states older than this on the current stream are ignored
  let connection = 'connecting';
  let gesture = null;     // the gesture just granted on this basket: {asked, granted, currency}

  const $ = (id) => document.getElementById(id);

  function pickLang(wanted) {
    if (wanted === 'fr' || wanted === 'en') return wanted;
    return (navigator.language || '').toLowerCase().startsWith('fr') ? 'fr' : 'en';
  }

  function t(key, values) {
    let text = TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.replace('{' + name + '}', value);
    }
    return text;
  }

  // A receipt sentence in the panel's language ({fr, en}), or the other one if missing.
  function sentence(text) {
    if (!text) return '';
    return text[lang] || text.fr || text.en || '';
  }

  function moneyFormat(currency, digits) {
    const options = { minimumFractionDigits: digits, maximumFractionDigits: digits };
    try {
      return new Intl.NumberFormat(LOCALES[lang], { style: 'currency', currency, ...options });
    } catch (e) {  // no currency code (or one Intl does not know): the number alone
      return new Intl.NumberFormat(LOCALES[lang], options);
    }
  }

  // Money arrives as integer minor units: the decimal is written with BigInt division and
  // handed to Intl.NumberFormat as a string, so no float ever rounds it.
  function money(minor, currency) {
    // An amount that is not an integer is shown as a dash: one bad field never blanks the page.
    if (typeof minor !== 'bigint' && !Number.isSafeInteger(minor)) return '—';
    const digits = MINOR_DIGITS[currency] ?? 2;
    let amount = BigInt(minor);
    const sign = amount < 0n ? '−' : '';
    if (amount < 0n) amount = -amount;
    const scale = 10n ** BigInt(digits);
    const fraction = digits > 0 ? '.' + (amount % scale).toString().padStart(digits, '0') : '';
    return sign + moneyFormat(currency, digits).format((amount / scale).toString() + fraction);
  }

  // "€" for EUR in either language: what the amount field is typed in.
  function currencySymbol(currency) {
    const part = moneyFormat(currency, 0).formatToParts(0).find((p) => p.type === 'currency');
    return part ? part.value : currency;
  }

  // What the cashier types ("1,50", "1.5", "2") in minor units, or null if it is not money.
  function parseAmount(text, currency) {
    const digits = MINOR_DIGITS[currency] ?? 2;
    const match = /^\s*(\d{1,7})(?:[.,](\d+))?\s*$/.exec(text);
    if (!match || (match[2] && match[2].length > digits)) return null;
    const fraction = (match[2] || '').padEnd(digits, '0');
    const minor = BigInt(match[1]) * 10n ** BigInt(digits) + BigInt(fraction || '0');
    return minor > 0n ? Number(minor) : null;
  }

  function clear(list) {
    while (list.firstChild) list.removeChild(list.firstChild);
  }

  function item(className, ...children) {
    const li = document.createElement('li');
    if (className) li.className = className;
    for (const child of children) li.appendChild(child);
    return li;
  }

  function span(className, text) {
    const node = document.createElement('span');
    node.className = className;
    node.textContent = text;
    return node;
  }

  // ---- Rendering: every text is set with textContent (names come from data, not code). ----

  function render() {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll('[data-text]')) {
      node.textContent = t(node.dataset.text);
    }
    $('lang-toggle').textContent = t('toggle');
    $('lang-toggle').setAttribute('aria-label', t('toggle_label'));
    renderConnection();

    const receipt = state && state.receipt ? state.receipt : null;
    const customer = (state && state.customer) || (receipt && receipt.customer) || null;
    $('event').textContent = state && state.event ? t('ev_' + state.event) : '';
    $('event').dataset.event = state && state.event ? state.event : '';

    // A panel the service refuses shows that, and nothing a customer could be taken from.
    const refused = connection === 'token_refused' || connection === 'no_token';
    $('refused').hidden = !refused;
    $('refused-detail').textContent = connection === 'no_token' ? t('no_token_detail')
                                                                 : t('refused_detail');
    $('idle').hidden = refused || !!customer;
    $('customer').hidden = refused || !customer;
    if (refused) return;
    if (!customer) {
      renderIdle(receipt);
      return;
    }
    renderCustomer(customer);
    const currency = (receipt && receipt.currency) || '';
    renderRewards(receipt, currency);
    renderProgress((receipt && receipt.progress) || (state && state.progress) || []);
    renderSuggestions((receipt && receipt.suggestions) || []);
    renderGoodwill(receipt, currency);
  }

  function renderConnection() {
    const node = $('connection');
    node.textContent = t(connection);
    node.dataset.state = connection;
  }

  function renderIdle(receipt) {
    const basketWithoutCustomer = !!receipt && state.event !== 'idle';
    $('idle-greeting').textContent = basketWithoutCustomer ? t('unrecognized') : t('hello');
    $('idle-detail').textContent =
        basketWithoutCustomer ? t('no_basket_customer') : t('waiting');
    const list = $('notices');
    clear(list);
    const notices = (receipt && receipt.notices) || (state && state.notices) || [];
    for (const notice of notices) {
      const known = TEXTS[lang][notice.code];
      list.appendChild(item('notice', span('', known || notice.message || notice.code)));
    }
    closeGoodwillForm();
  }

  // A committed receipt carries no name (it is kept for retries): the name the evaluation
  // showed stays while the same customer is at the till.
  let knownName = { id: null, name: null };

  function renderCustomer(customer) {
    if (customer.first_name) knownName = { id: customer.id, name: customer.first_name };
    const name = customer.first_name || (knownName.id === customer.id ? knownName.name : null);
    $('customer-name').textContent = name || t('recognized');
    const tier = customer.tier_status;
    $('tier').hidden = !tier;
    if (tier) {
      $('tier-name').textContent = sentence(tier.name) || tier.id || '';
      $('tier-text').textContent = sentence(tier.text);
    }
  }

  function renderRewards(receipt, currency) {
    const list = $('rewards');
    clear(list);
    // One row per rule: a reward spread over several lines is one sentence to the cashier.
    const rows = new Map();
    for (const line of (receipt && receipt.lines) || []) {
      for (const discount of line.discounts || []) {
        const key = discount.rule + '\n' + sentence(discount.text);
        const row = rows.get(key) || { text: sentence(discount.text), amount: 0n };
        row.amount += BigInt(discount.amount);
        rows.set(key, row);
      }
    }
    for (const row of rows.values()) {
      list.appendChild(item('reward', span('reward-text', row.text),
                            span('reward-amount', money(-row.amount, currency))));
    }
    $('no-rewards').hidden = rows.size > 0 || !receipt;
    const total = receipt && receipt.total_discount ? receipt.total_discount : 0;
    $('total-discount').hidden = !total;
    $('total-discount').textContent = total ? t('total_discount', { amount: money(total, currency) }) : '';
  }

  function renderProgress(progress) {
    const list = $('progress');
    clear(list);
    for (const step of progress) {
      const have = Math.max(0, Number(step.have) || 0);
      const need = Math.max(1, Number(step.need) || 1);
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-valuemin', '0');
      bar.setAttribute('aria-valuemax', String(need));
      bar.setAttribute('aria-valuenow', String(Math.min(have, need)));
      bar.setAttribute('aria-label', sentence(step.text));
      const fill = document.createElement('div');
      fill.className = 'fill';
      fill.style.width = Math.min(100, Math.floor((have * 100) / need)) + '%';
      bar.appendChild(fill);
      const li = item('step', span('step-text', sentence(step.text)), bar);
      li.dataset.rule = step.rule || '';
      list.appendChild(li);
    }
    $('no-progress').hidden = progress.length > 0;
  }

  function renderSuggestions(suggestions) {
    const list = $('suggestions');
    clear(list);
    for (const suggestion of suggestions.slice(0, 3)) {
      list.appendChild(item('suggestion', span('', sentence(suggestion.text))));
    }
    $('suggestions-card').hidden = suggestions.length === 0;
  }

  function goodwillStatus(receipt) {
    if (!receipt || !receipt.goodwill) return { enabled: false, why: t('no_goodwill') };
    const left = Number(receipt.goodwill.budget_left) || 0;
    if (left <= 0) return { enabled: false, why: t('no_budget') };
    // A gesture joins a basket being rung up; a paid or cancelled sale cannot take one.
    const open = receipt.status === 'proposed' && !!state.pos_txn_id;
    return { enabled: open, why: open ? '' : t('needs_basket'), left };
  }

  function renderGoodwill(receipt, currency) {
    const status = goodwillStatus(receipt);
    const budget = receipt && receipt.goodwill
        ? t('budget_left', { amount: money(receipt.goodwill.budget_left, currency) })
        : '';
    $('goodwill-budget').textContent = [budget, status.enabled ? '' : status.why]
        .filter(Boolean).join(' · ');
    $('goodwill-button').disabled = !status.enabled;
    $('goodwill-amount-label').textContent = t('amount', { currency: currencySymbol(currency) });
    if (!status.enabled) closeGoodwillForm();
    $('goodwill-done').hidden = !gesture;
    // What the receipt says was granted: a gesture never takes a basket below zero.
    $('goodwill-done').textContent = !gesture ? ''
        : t(gesture.granted < gesture.asked ? 'granted_less' : 'granted',
            { amount: money(gesture.granted, gesture.currency) });
  }

  function closeGoodwillForm() {
    $('goodwill-form').hidden = true;
    $('goodwill-button').setAttribute('aria-expanded', 'false');
    $('goodwill-error').hidden = true;
  }

  // ---- The goodwill form: POST /v1/goodwill, then show the re-evaluated receipt. ----

  function openGoodwillForm() {
    $('goodwill-form').hidden = false;
    $('goodwill-button').setAttribute('aria-expanded', 'true');
    $('goodwill-error').hidden = true;
    $('goodwill-amount').focus();
  }

  function showFormError(text) {
    $('goodwill-error').textContent = text;
    $('goodwill-error').hidden = false;
  }

  async function grantGoodwill(event) {
    event.preventDefault();
    const receipt = state && state.receipt;
    if (!receipt || !goodwillStatus(receipt).enabled) return;
    const amount = parseAmount($('goodwill-amount').value, receipt.currency);
    if (amount === null) return showFormError(t('bad_amount'));
    const reason = $('goodwill-reason').value.trim();
    if (!reason) return showFormError(t('reason_needed'));
    const body = { pos_txn_id: state.pos_txn_id, amount, reason };
    if (cashierId) body.cashier_id = cashierId;
    $('goodwill-grant').disabled = true;
    $('goodwill-grant').textContent = t('sending');
    try {
      const response = await fetch('/v1/goodwill', {
        method: 'POST',
        headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        cache: 'no-store',
      });
      const answer = await response.json().catch(() => null);
      if (!response.ok || !answer || answer.error) {
        const error = answer && answer.error;
        if (!error) return showFormError(t('network_error'));
        // The panel's own sentence where it has one: the server's message is in English.
        const known = error.code === 'goodwill_over_budget' ? t('over_budget') : error.message;
        return showFormError(known + ' (' + error.code + ')');
      }
      // The answer is the basket's new receipt; the stream will say the same a moment later.
      state = Object.assign({}, state, { event: 'goodwill', receipt: answer,
                                         customer: answer.customer || state.customer });
      const granted = answer.goodwill ? Number(answer.goodwill.granted) || 0 : amount;
      gesture = { asked: amount, granted, currency: receipt.currency };
      $('goodwill-form').reset();
      closeGoodwillForm();
      render();
    } catch (e) {
      showFormError(t('network_error'));
    } finally {
      $('goodwill-grant').disabled = false;
      $('goodwill-grant').textContent = t('grant');
    }
  }

  // ---- The live stream: Server-Sent Events read from fetch() (EventSource sends no header). ----

  function show(next) {
    if (typeof next.seq === 'number') {
      if (next.seq < lastSeq) return;
      lastSeq = next.seq;
    }
    // A new basket or customer: the last gesture's confirmation no longer applies.
    if (!state || next.pos_txn_id !== state.pos_txn_id) gesture = null;
    state = next;
    render();
  }

  function dispatch(block) {
    let name = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0 || (name !== 'state' && name !== 'message')) return;
    try {
      show(JSON.parse(data.join('\n')));
    } catch (e) {
      console.warn('panel: unreadable state', e);
    }
  }

  function setConnection(value) {
    const wasRefused = connection === 'token_refused' || connection === 'no_token';
    connection = value;
    if (value === 'token_refused') state = null;  // what was shown is no longer this panel's
    // Into or out of the refused state, the whole page changes; else only the top bar.
    if (wasRefused !== (value === 'token_refused' || value === 'no_token')) render();
    else renderConnection();
  }

  async function follow() {
    let delay = 500;
    for (;;) {
      let refused = false;
      try {
        // A refused panel stays refused while it knocks again: never a moment of "waiting".
        if (connection !== 'token_refused') setConnection('connecting');
        const response = await fetch('/panel/events', {
          headers: { 'Authorization': 'Bearer ' + token, 'Accept': 'text/event-stream' },
          cache: 'no-store',
        });
        if (response.status === 401 || response.status === 403) {
          refused = true;
          throw new Error('token refused');
        }
        if (!response.ok || !response.body) throw new Error('HTTP ' + response.status);
        setConnection('connected');
        delay = 500;
        lastSeq = -1;  // the server may have restarted and counts from the start again
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
            dispatch(block);
          }
        }
      } catch (e) {
        console.warn('panel: stream', e.message);
      }
      setConnection(refused ? 'token_refused' : 'offline');
      // Back off, with jitter so several panels do not knock at the same moment.
      await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay * 0.3));
      delay = Math.min(refused ? 60000 : 10000, delay * 2);
    }
  }

  function toggleLang() {
    lang = lang === 'fr' ? 'en' : 'fr';
    params.set('lang', lang);
    history.replaceState(null, '', '#' + params.toString());
    render();
  }

  $('lang-toggle').addEventListener('click', toggleLang);
  $('goodwill-button').addEventListener('click', () => {
    if ($('goodwill-form').hidden) openGoodwillForm(); else closeGoodwillForm();
  });
  $('goodwill-cancel').addEventListener('click', closeGoodwillForm);
  $('goodwill-form').addEventListener('submit', grantGoodwill);

  render();
  if (!token) {
    setConnection('no_token');
  } else {
    follow();
  }
})();
