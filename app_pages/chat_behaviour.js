// The chat page's browser-side behaviour, installed once per tab by app_pages/chat.py.
//
// Streamlit's main scroller sticks to the bottom while content grows, and keeps
// sticking when the user scrolls up during a stream (its "sticky" state only drops
// on a scroll without a size change). Here the page follows the answer only while
// the user is at the bottom: scrolling up stops following (Streamlit's writes to
// scrollTop are ignored then), a jump-to-bottom button and sending a prompt bring
// it back. Also: Esc presses Stop (focus stays in the input), Copy buttons copy with a
// "Copied" state read out to screen readers, and on a phone picking a chat, New chat or
// an import closes the sidebar drawer, whose controls are no Tab stops while closed.
(() => {
  if (window.__chatBehaviour) return;
  window.__chatBehaviour = true;
  const doc = document;
  const native = Object.getOwnPropertyDescriptor(Element.prototype, "scrollTop");
  const state = { following: true, el: null };
  window.__chatScroll = state; // read by the browser tests

  const gap = (el) => el.scrollHeight - native.get.call(el) - el.clientHeight;
  const toBottom = (el) => native.set.call(el, el.scrollHeight);
  const follow = () => {
    state.following = true;
    if (state.el) toBottom(state.el);
  };
  const unfollow = () => {
    state.following = false;
  };

  const jump = doc.createElement("button");
  jump.id = "chat-jump-to-bottom";
  jump.type = "button";
  jump.textContent = "↓ Jump to the latest";
  jump.title = "Scroll to the end and follow the answer";
  jump.addEventListener("click", follow);
  doc.body.appendChild(jump);

  // Screen readers hear what only changes a button's look ("Copied"): a polite live region.
  const live = doc.createElement("div");
  live.id = "chat-announcer";
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  doc.body.appendChild(live);
  const announce = (text) => {
    live.textContent = text;
    setTimeout(() => (live.textContent = ""), 3000);
  };

  function themeJump() {
    // Streamlit exposes no theme variables to page CSS: take the app's own colours, so
    // the pill is dark in the dark theme (it was hard-coded white).
    const app = doc.querySelector('[data-testid="stApp"]');
    if (!app) return;
    const style = getComputedStyle(app);
    jump.style.backgroundColor = style.backgroundColor;
    jump.style.color = style.color;
  }

  function drawerInert() {
    // A closed sidebar is only slid off screen: its controls took the first Tab stops.
    const sidebar = doc.querySelector('[data-testid="stSidebar"]');
    if (sidebar) sidebar.inert = sidebar.dataset.collapsed === "true";
  }

  function attach(el) {
    if (el.__chatFollow) return;
    el.__chatFollow = true;
    state.el = el;
    Object.defineProperty(el, "scrollTop", {
      configurable: true,
      get() {
        return native.get.call(this);
      },
      set(value) {
        // Streamlit's stick-to-bottom animation: obeyed only while following.
        if (state.following) native.set.call(this, value);
      },
    });
    el.addEventListener("wheel", (e) => e.deltaY < 0 && unfollow(), { passive: true });
    let touchY = null;
    el.addEventListener("touchstart", (e) => (touchY = e.touches[0].clientY), { passive: true });
    el.addEventListener(
      "touchmove",
      (e) => touchY !== null && e.touches[0].clientY > touchY + 4 && unfollow(),
      { passive: true },
    );
    el.addEventListener("scroll", () => {
      if (!state.following && gap(el) < 4) state.following = true; // back at the end
    });
  }

  doc.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      const stop = doc.querySelector(".st-key-stop button");
      if (stop) {
        e.preventDefault();
        stop.click();
        keepFocus();
      }
      return;
    }
    if (["PageUp", "ArrowUp", "Home"].includes(e.key) && !e.target.closest("textarea, input")) {
      unfollow();
    }
    if (e.key === "Enter" && !e.shiftKey && e.target.closest('[data-testid="stChatInput"]')) {
      follow(); // sending a prompt shows it, and the answer after it
    }
  });

  doc.addEventListener("click", (e) => {
    const target = e.target;
    if (target.closest('[data-testid="stChatInputSubmitButton"]')) follow();
    if (target.closest(".st-key-stop")) keepFocus(); // the Stop button vanishes when done
    const copy = target.closest("button[data-copy-from]");
    if (copy) copyAnswer(copy);
    const chat = target.closest('[class*="st-key-conv-"] button, .st-key-new-chat button');
    if (chat && window.innerWidth < 768) closeDrawer();
  });

  doc.addEventListener("change", (e) => {
    // An imported chat opens in the main area: on a phone, show it (the drawer covers it).
    if (e.target.closest(".st-key-import_file") && window.innerWidth < 768) closeDrawer();
  });

  function keepFocus() {
    // Stop (a click or Esc) leaves the caret in the input, as a composer keeps it: the
    // button that had focus is removed by the rerun, which would drop focus to the page.
    const focusInput = () => {
      const input = doc.querySelector('[data-testid="stChatInputTextArea"]');
      if (input && doc.activeElement !== input) input.focus();
    };
    for (const ms of [0, 300, 1000]) setTimeout(focusInput, ms);
  }

  function closeDrawer() {
    // On a phone the sidebar is a drawer over the chat: picking a chat closes it.
    setTimeout(() => {
      const close = doc.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) close.click();
    }, 50);
  }

  // The answer's markdown is read from the page on click, not sent a second time with the
  // button. Streamlit's markdown element keeps its source only in its React props (the DOM
  // holds the rendered HTML), so the element's fiber is walked up to the first props with a
  // string "source"; should a Streamlit release move it, the rendered text is copied instead.
  function markdownSource(el) {
    const fiber = Object.keys(el).find((k) => k.startsWith("__reactFiber$"));
    for (let f = fiber ? el[fiber] : null; f; f = f.return) {
      const source = f.memoizedProps && f.memoizedProps.source;
      if (typeof source === "string") return source;
    }
    return el.innerText;
  }

  function answerMarkdown(button) {
    const box = doc.querySelector(".st-key-" + CSS.escape(button.dataset.copyFrom));
    if (!box) return "";
    // The answer is shown in pieces of whole blocks, each trimmed by st.markdown.
    const pieces = box.querySelectorAll('[data-testid="stMarkdownContainer"]');
    return Array.from(pieces, markdownSource).join("\n\n");
  }

  async function copyAnswer(button) {
    const text = answerMarkdown(button);
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = doc.createElement("textarea"); // an insecure origin: the old way
      area.value = text;
      doc.body.appendChild(area);
      area.select();
      doc.execCommand("copy");
      area.remove();
    }
    button.dataset.copied = "true";
    button.textContent = "✓ Copied";
    announce("Copied to the clipboard");
    setTimeout(() => {
      delete button.dataset.copied;
      button.textContent = button.dataset.label || "Copy";
    }, 2000);
  }

  // Each frame too, not only every 100 ms: a big block arriving at once must not leave
  // the end of the answer a screen behind (the interval alone is what a hidden tab gets).
  const eachFrame = () => {
    if (state.el && state.following && gap(state.el) > 2) toBottom(state.el);
    requestAnimationFrame(eachFrame);
  };
  requestAnimationFrame(eachFrame);

  setInterval(() => {
    const el = doc.querySelector('[data-testid="stMain"]');
    if (el && el !== state.el) attach(el);
    if (!state.el) return;
    if (state.following && gap(state.el) > 2) {
      toBottom(state.el);
    }
    jump.dataset.visible = String(!state.following && gap(state.el) > 80);
    if (jump.dataset.visible === "true") themeJump();
    drawerInert();
  }, 100);
})();
