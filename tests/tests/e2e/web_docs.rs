//! Not tests of behaviour but the web inbox's documentation, made with the browser tests'
//! setup (real headless Chromium, the api process, the simulator process); both are
//! `#[ignore]`d and run on demand:
//!
//! - the screenshots in `docs/` (`README.md` shows them), from the simulator's demo data:
//!   `cargo test -p mf-tests --test e2e -- --ignored --nocapture web_docs::screenshots`
//! - the page-load benchmark and bundle sizes in `BENCHMARKS.md`:
//!   `cargo test --release -p mf-tests --test e2e -- --ignored --nocapture web_docs::page_load`
use std::path::Path;
use std::time::Duration;

use mf_tests::browser::{self, Browser, UI_TIMEOUT};
use mf_tests::sim::{SIM_SECRET, Simulator, spawn_app_on_with};
use mf_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use serde_json::{Value, json};

/// The screenshots' desktop size: a common laptop screen.
const SCREENSHOT: (u32, u32) = (1366, 768);

/// Page loads measured per cache state.
const RUNS: usize = 7;

/// Records, from the very start of each document, when the first and the fifth
/// conversation show: `window.__mfFirst` and `window.__mfFive`, in ms since navigation
/// start (`performance.now()`). For the breakdown it also records when the WebAssembly
/// module is compiled and instantiated (`__mfWasm`: start and end of
/// `WebAssembly.instantiateStreaming` or `instantiate`) and each GraphQL request
/// (`__mfGql`: operation name, start, headers received).
const FIVE_OBSERVER: &str = "(() => {\
    const look = () => {\
      const n = document.querySelectorAll('[data-testid=\"conversation-item\"]').length;\
      if (window.__mfFirst === undefined && n >= 1) window.__mfFirst = performance.now();\
      if (window.__mfFive === undefined && n >= 5) window.__mfFive = performance.now();\
    };\
    new MutationObserver(look).observe(document, { subtree: true, childList: true });\
    window.__mfWasm = [];\
    for (const name of ['instantiateStreaming', 'instantiate', 'compileStreaming']) {\
      const original = WebAssembly[name];\
      if (!original) continue;\
      WebAssembly[name] = function (...args) {\
        const entry = { name, start: performance.now() };\
        window.__mfWasm.push(entry);\
        return original.apply(this, args).then(r => { entry.end = performance.now(); return r; });\
      };\
    }\
    window.__mfGql = [];\
    const fetch = window.fetch;\
    window.fetch = function (input, init) {\
      const url = typeof input === 'string' ? input : input.url;\
      if (!/\\/graphql$/.test(url)) return fetch.apply(this, arguments);\
      const entry = { start: performance.now() };\
      window.__mfGql.push(entry);\
      entry.op = '?';\
      const name = b => { const m = /\"operationName\":\"(\\w+)\"/.exec(b || ''); if (m) entry.op = m[1]; };\
      if (input instanceof Request) input.clone().text().then(name); else name(init && init.body);\
      return fetch.apply(this, arguments).then(r => {\
        entry.headers = performance.now();\
        entry.status = r.status;\
        r.clone().text().then(t => { entry.answer = t.slice(0, 120); });\
        return r;\
      });\
    };\
    const Socket = window.WebSocket;\
    window.WebSocket = function (...args) {\
      const socket = new Socket(...args);\
      window.__mfWs = { start: performance.now() };\
      socket.addEventListener('open', () => { window.__mfWs.open = performance.now(); });\
      return socket;\
    };\
    window.WebSocket.prototype = Socket.prototype;\
    Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });\
  })();";

/// What one page load spent where, in ms since navigation start, from the Navigation and
/// Resource Timing entries and what [`FIVE_OBSERVER`] recorded.
const BREAKDOWN: &str = "const nav = performance.getEntriesByType('navigation')[0];\
    const res = performance.getEntriesByType('resource');\
    const path = e => new URL(e.name).pathname;\
    const one = re => res.find(e => re.test(path(e)));\
    const wasm = one(/\\.wasm$/);\
    const js = res.filter(e => /\\.js$/.test(path(e)));\
    const gqlRes = res.filter(e => path(e) === '/graphql');\
    const out = {\
      html_end: nav.responseEnd,\
      dom_interactive: nav.domInteractive,\
      js_end: Math.max(...js.map(e => e.responseEnd)),\
      wasm_start: wasm ? wasm.startTime : null,\
      wasm_end: wasm ? wasm.responseEnd : null,\
      wasm_transfer: wasm ? wasm.transferSize : null,\
      first: window.__mfFirst,\
      five: window.__mfFive,\
      ws_start: window.__mfWs ? window.__mfWs.start : null,\
      ws_open: window.__mfWs ? window.__mfWs.open : null,\
    };\
    (window.__mfWasm || []).forEach((w, i) => {\
      out['instantiate_' + i + '_' + w.name + '_start'] = w.start;\
      out['instantiate_' + i + '_' + w.name + '_end'] = w.end;\
    });\
    (window.__mfGql || []).forEach((g, i) => {\
      const r = gqlRes[i];\
      out['gql_' + i + '_' + g.op + '_start'] = g.start;\
      out['gql_' + i + '_' + g.op + '_end'] = r ? r.responseEnd : g.headers;\
    });\
    res.filter(e => path(e) !== '/graphql').forEach(e => {\
      const name = path(e).split('/').pop().replace(/-[0-9a-f]{16}/, '');\
      out['file_' + name + '_start'] = e.startTime;\
      out['file_' + name + '_end'] = e.responseEnd;\
    });\
    out.dom_content_loaded = nav.domContentLoadedEventStart;\
    out.requests = (window.__mfGql || []).map(g => g.op + ' ' + g.status + ' ' + g.answer);\
    out.prefetch = (window.__mfPrefetch || []).map(e => e.body.slice(-40) + ' taken: ' + e.taken);\
    return out;";

async fn sign_in(browser: &Browser, base: &str) {
    browser.goto(&format!("{base}/")).await;
    browser.fill("login-email", ADMIN_EMAIL).await;
    browser.fill("login-password", ADMIN_PASSWORD).await;
    browser.click("login-submit").await;
    browser.wait_for_testid("inbox").await;
}

/// The demo: its Page connected and its recent history imported, as `scripts/run` does.
async fn demo() -> (Simulator, TestApp, String) {
    let (sim, demo) = Simulator::start_demo(SIM_SECRET).await;
    let dist = browser::client_dist();
    let app = spawn_app_on_with(&sim, move |config| config.web_dir = dist).await;
    let page = demo["id"].as_str().expect("the demo Page's id").to_owned();
    let token = demo["access_token"].as_str().expect("its token").to_owned();
    app.connect_page(&page, &token).await;
    app.gql_data(
        "mutation($page: ID!) { syncConversations(pageId: $page, limit: 20) { conversations } }",
        json!({ "page": page }),
    )
    .await;
    (sim, app, page)
}

/// Each phase's median and range over the runs, in the order of its median.
fn print_breakdown(cache: &str, runs: &[Value]) {
    let mut phases: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for run in runs {
        for (key, value) in run.as_object().into_iter().flatten() {
            if let Some(ms) = value.as_f64() {
                phases.entry(key.clone()).or_default().push(ms);
            }
        }
    }
    let mut rows: Vec<(f64, String)> = phases
        .into_iter()
        .map(|(key, mut values)| {
            let n = values.len();
            let mid = median(&mut values);
            let row = format!(
                "| {key} | {mid:.1} | {:.1}–{:.1} | {n} |",
                values[0],
                values[n - 1]
            );
            (mid, row)
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!("{cache}: breakdown (ms since navigation start)");
    println!("| phase | median | range | runs |");
    println!("|---|---:|---|---:|");
    for (_, row) in rows {
        println!("{row}");
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::test]
#[ignore = "writes docs/*.png; run on demand"]
async fn screenshots_of_the_inbox_a_chat_and_settings() {
    let Some(browser) = Browser::start("screenshots").await else {
        return;
    };
    let (_sim, app, page) = demo().await;
    let base = format!("http://{}", app.addr);
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    std::fs::create_dir_all(&docs).expect("creating docs/");

    // Who said what: a colleague, Sam, answers the newest conversation from MessengerFlow
    // (his name on the bubble), assigns it to himself and sets it pending (system lines).
    let sam = app
        .agent_on("sam@example.com", "Sam", &[page.as_str()])
        .await;
    let newest = app.conversations(&page).await;
    let newest = mf_tests::id_of(&newest[0]).to_owned();
    app.gql_data_as(
        &sam.token,
        "mutation($id: ID!, $t: String!) { sendMessage(input: { conversationId: $id, text: $t }) { id } }",
        json!({ "id": newest, "t": "Your order left the warehouse this morning: tracking follows by mail." }),
    )
    .await;
    let update = "mutation($id: ID!, $input: UpdateConversationInput!) { updateConversation(id: $id, input: $input) { id } }";
    app.gql_data_as(
        &sam.token,
        update,
        json!({ "id": newest, "input": { "assigneeId": sam.id } }),
    )
    .await;
    app.gql_data_as(
        &sam.token,
        update,
        json!({ "id": newest, "input": { "status": "PENDING" } }),
    )
    .await;

    browser.set_size(SCREENSHOT.0, SCREENSHOT.1).await;
    sign_in(&browser, &base).await;
    browser
        .wait_for(
            "conversations",
            UI_TIMEOUT,
            "return document.querySelectorAll('[data-testid=\"conversation-item\"]').length >= 5;",
        )
        .await;
    // Pictures and fonts settle.
    tokio::time::sleep(Duration::from_millis(800)).await;
    browser.screenshot(&docs.join("web-inbox.png")).await;

    browser
        .js(
            "document.querySelector('[data-testid=\"conversation-item\"]').click(); return true;",
            vec![],
        )
        .await;
    browser.wait_for_testid("chat").await;
    browser.wait_for_testid("message-item").await;
    browser.wait_for_testid("activity-item").await;
    // Sam is typing a second reply: the collision warning in the header.
    app.gql_data_as(
        &sam.token,
        "mutation($id: ID!) { setConversationPresence(conversationId: $id, state: TYPING) }",
        json!({ "id": newest }),
    )
    .await;
    browser.wait_for_testid("collision-warning").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    browser.screenshot(&docs.join("web-chat.png")).await;

    browser.set_size(360, 740).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    browser.screenshot(&docs.join("web-chat-360.png")).await;
    browser.click("chat-back").await;
    browser.wait_for_testid("conversation-item").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    browser.screenshot(&docs.join("web-inbox-360.png")).await;
    browser.set_size(SCREENSHOT.0, SCREENSHOT.1).await;

    browser.click("settings-link").await;
    browser.wait_for_testid("settings").await;
    browser.click("sync-full-history").await;
    browser
        .wait_for(
            "the full history sync done",
            Duration::from_secs(60),
            "const p = document.querySelector('[data-testid=\"sync-progress\"]');\
             return p !== null && p.getAttribute('data-status') === 'DONE';",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    browser.screenshot(&docs.join("web-settings.png")).await;
    eprintln!("screenshots written to {}", docs.display());
    browser.close().await;
}

#[tokio::test]
#[ignore = "a benchmark; run on demand (BENCHMARKS.md)"]
async fn page_load_to_first_five_conversations() {
    // Bundle sizes: what the browser downloads, as built.
    let dist = browser::client_dist();
    let mut files: Vec<_> = std::fs::read_dir(&dist)
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    println!("| file | bytes | gzipped |");
    println!("|---|---:|---:|");
    for file in &files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        if !(name.ends_with(".wasm") || name.ends_with(".js") || name.ends_with(".css")) {
            continue;
        }
        let bytes = std::fs::read(file).expect("reading a client file");
        let gz = file.with_file_name(format!("{name}.gz"));
        let gzipped = match std::fs::read(&gz) {
            Ok(sibling) => sibling.len(),
            Err(_) => mf_tests::web::gzip(&bytes).len(),
        };
        println!("| `{name}` | {} | {} |", bytes.len(), gzipped);
    }

    let Some(browser) = Browser::start("page_load").await else {
        return;
    };
    let (_sim, app, _page) = demo().await;
    let base = format!("http://{}", app.addr);
    sign_in(&browser, &base).await;
    browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": FIVE_OBSERVER }),
        )
        .await;

    let mut results = Vec::new();
    for cache in ["cold (HTTP cache cleared)", "warm (HTTP cache)"] {
        let mut times = Vec::new();
        let mut firsts = Vec::new();
        let mut transferred = Value::Null;
        let mut breakdowns = Vec::new();
        for _ in 0..RUNS {
            if cache.starts_with("cold") {
                browser.cdp("Network.clearBrowserCache", json!({})).await;
            }
            browser.goto("about:blank").await;
            browser.goto(&format!("{base}/")).await;
            let five = browser
                .wait_for(
                    "five conversations after the page load",
                    UI_TIMEOUT,
                    "return window.__mfFive === undefined ? null : window.__mfFive;",
                )
                .await;
            times.push(five.as_f64().expect("a time in ms"));
            let first = browser
                .js(
                    "return window.__mfFirst === undefined ? null : window.__mfFirst;",
                    vec![],
                )
                .await;
            firsts.push(first.as_f64().expect("a time in ms"));
            breakdowns.push(browser.js(BREAKDOWN, vec![]).await);
            transferred = browser
                .js(
                    "return performance.getEntriesByType('resource')\
                       .filter(e => /\\.(wasm|js|css)$/.test(new URL(e.name).pathname))\
                       .map(e => ({ name: new URL(e.name).pathname, \
                                    transfer: e.transferSize, encoded: e.encodedBodySize, \
                                    decoded: e.decodedBodySize }));",
                    vec![],
                )
                .await;
        }
        let runs = times
            .iter()
            .map(|t| format!("{t:.0}"))
            .collect::<Vec<_>>()
            .join(", ");
        let first_runs = firsts
            .iter()
            .map(|t| format!("{t:.0}"))
            .collect::<Vec<_>>()
            .join(", ");
        let first = median(&mut firsts);
        println!("{cache}: median {first:.0} ms to the 1st conversation; runs (ms): {first_runs}");
        let median = median(&mut times);
        println!("{cache}: median {median:.0} ms to the 5th conversation; runs (ms): {runs}");
        println!("{cache}: resources of the last run: {transferred}");
        if let Some(last) = breakdowns.last() {
            println!("{cache}: requests of the last run: {:#}", last["requests"]);
            println!(
                "{cache}: prefetched in the last run: {:#}",
                last["prefetch"]
            );
        }
        print_breakdown(cache, &breakdowns);
        results.push((cache, median));
    }
    for (cache, median) in results {
        assert!(median > 0.0, "{cache}: no time measured");
    }
    browser.close().await;
}
