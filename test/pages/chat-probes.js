// Probes the chat and dashboard tests install in every page (context.addInitScript: not subject to
// the pages' CSP). They read the page the way a person sees it and time changes with the page's
// clock (Date.now(): the machine clock every page and the test share).
globalThis.probes = {
  typingLog: [],
  arrivals: [],
  now() {
    return Date.now();
  },
  /** Records every change of the typing line (time, text). */
  recordTyping() {
    this.typingLog = [];
    const el = document.getElementById('typing');
    new MutationObserver(() => this.typingLog.push({ t: Date.now(), text: el.textContent || '' })).observe(el, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  },
  /** Records when rows are added to the message list. */
  recordArrivals() {
    this.arrivals = [];
    new MutationObserver(() => this.arrivals.push(Date.now())).observe(document.getElementById('messages'), {
      childList: true,
    });
  },
  members() {
    return [...document.querySelectorAll('#member-list .member')].map((e) => e.dataset.clientId || '');
  },
  hasMember(name) {
    return this.members().includes(name);
  },
  optionValues(selector) {
    return [...document.querySelectorAll(`${selector} option`)].map((o) => o.value);
  },
  text(selector) {
    const el = document.querySelector(selector);
    return el ? el.textContent || '' : null;
  },
  count(selector) {
    return document.querySelectorAll(selector).length;
  },
  /** Whether the page is wider than the window (something sticks out sideways). */
  overflowsSideways() {
    return document.documentElement.scrollWidth > window.innerWidth;
  },
  activeId() {
    const el = document.activeElement;
    return el
      ? el.id ||
          `${el.tagName.toLowerCase()}${el.getAttribute('href') ? `[href="${el.getAttribute('href')}"]` : ''}${el.className ? `.${String(el.className).split(' ')[0]}` : ''}`
      : '';
  },
};
