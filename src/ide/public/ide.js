// mailadmin's GraphQL IDE: GraphiQL (served by this server, no CDN) with a
// login helper above it and the support desk's example operations in a side
// panel. Loaded as a file, not inline, so that the page runs under a
// Content-Security-Policy of script-src 'self'. Its texts come from the
// server's catalogues (graphql-ide/texts.json) in the browser's language
// (Accept-Language), else the saved preference of whoever logs in, else the
// service's DEFAULT_LANGUAGE.
(function () {
  "use strict";

  var React = window.React;
  var ReactDOM = window.ReactDOM;
  var GraphiQL = window.GraphiQL;
  var h = React.createElement;

  // The page is served at the GraphQL endpoint itself (GET /graphql from a browser).
  var endpoint = window.location.pathname;
  // Per browser tab, gone when it is closed; never in localStorage.
  var SESSION_KEY = "mailadmin.ide.session";

  // The query the first tab starts with, after the catalogue's welcome comment.
  var ME_QUERY = ["query Me {", "  me {", "    __typename", "    loginName", "    role", "    displayName", "  }", "}", ""].join("\n");

  // Saved preferences (the schema's Language enum) as the catalogues name them.
  var LANGUAGE_TAGS = { EN: "en", ZH_TW: "zh-TW" };

  /** A text of the page's catalogue, with its {name} marks filled from values. */
  function say(texts, id, values) {
    var text = texts[id] === undefined ? id : texts[id];
    return text.replace(/\{(\w+)\}/g, function (mark, name) {
      return values && values[name] !== undefined ? String(values[name]) : mark;
    });
  }

  function loadSession() {
    try {
      var session = JSON.parse(window.sessionStorage.getItem(SESSION_KEY) || "null");
      if (session && typeof session.token === "string" && Date.parse(session.expiresAt) > Date.now()) return session;
    } catch (_error) {
      // A damaged entry is the same as none.
    }
    window.sessionStorage.removeItem(SESSION_KEY);
    return null;
  }

  function saveSession(session) {
    if (session) window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else window.sessionStorage.removeItem(SESSION_KEY);
  }

  function headersText(session) {
    return session ? JSON.stringify({ Authorization: "Bearer " + session.token }, null, 2) : "";
  }

  function postGraphQL(body, headers) {
    return window
      .fetch(endpoint, {
        method: "POST",
        headers: Object.assign({ "content-type": "application/json", accept: "application/json" }, headers),
        body: JSON.stringify(body),
        credentials: "omit",
      })
      .then(function (response) {
        return response.json();
      });
  }

  /**
   * Sends the logged-in token with every request, unless the tab's own
   * headers set Authorization (so a pasted token for another role wins).
   */
  function createFetcher(sessionRef) {
    return function fetcher(params, options) {
      var headers = {};
      if (sessionRef.current) headers.authorization = "Bearer " + sessionRef.current.token;
      var own = (options && options.headers) || {};
      Object.keys(own).forEach(function (name) {
        headers[name.toLowerCase()] = own[name];
      });
      return postGraphQL(params, headers);
    };
  }

  var LOGIN =
    "mutation Login($identifier: String!, $password: String!) { login(identifier: $identifier, password: $password) { token expiresAt enrollmentRequired principal { loginName role preferredLanguage } challenge { challenge } } }";
  // The second step of a login with two-factor login on: the code of the authenticator app, or a recovery code.
  var COMPLETE_LOGIN =
    "mutation CompleteLogin($challenge: String!, $code: String!) { completeLogin(challenge: $challenge, code: $code) { token expiresAt principal { loginName role preferredLanguage } } }";

  function LoginBar(props) {
    var identifierState = React.useState("");
    var passwordState = React.useState("");
    var busyState = React.useState(false);
    var errorState = React.useState("");
    // Set after a right password when a second step is needed: the challenge completeLogin takes.
    var challengeState = React.useState(null);
    var codeState = React.useState("");
    var session = props.session;
    var texts = props.texts;

    function started(login) {
      passwordState[1]("");
      if (login.challenge) {
        challengeState[1](login.challenge.challenge);
        return;
      }
      challengeState[1](null);
      codeState[1]("");
      props.onLogin({
        token: login.token,
        expiresAt: login.expiresAt,
        loginName: login.principal.loginName,
        role: login.principal.role,
        preferredLanguage: LANGUAGE_TAGS[login.principal.preferredLanguage] || null,
        enrollmentRequired: Boolean(login.enrollmentRequired),
      });
    }

    function submit(event) {
      event.preventDefault();
      busyState[1](true);
      errorState[1]("");
      var request = challengeState[0]
        ? { query: COMPLETE_LOGIN, variables: { challenge: challengeState[0], code: codeState[0] }, field: "completeLogin" }
        : { query: LOGIN, variables: { identifier: identifierState[0], password: passwordState[0] }, field: "login" };
      postGraphQL({ query: request.query, variables: request.variables }, {})
        .then(function (answer) {
          if (answer.errors && answer.errors.length > 0) {
            errorState[1](answer.errors[0].message);
            // A second step that waited too long, or was refused for good: start again with the password.
            // The code is UNAUTHENTICATED for a wrong code too, so the text tells them apart, in either language.
            var message = answer.errors[0].message;
            if (request.field === "completeLogin" && (message.indexOf("log in again") >= 0 || message.indexOf("重新登入") >= 0)) challengeState[1](null);
            return;
          }
          codeState[1]("");
          started(answer.data[request.field]);
        })
        .catch(function (error) {
          errorState[1](say(texts, "login.no_answer", { error: error.message }));
        })
        .finally(function () {
          busyState[1](false);
        });
    }

    if (session) {
      var until = new Date(session.expiresAt).toLocaleTimeString(props.language, { hour: "2-digit", minute: "2-digit" });
      return h(
        "div",
        { className: "mailadmin-login", role: "region", "aria-label": say(texts, "login.region") },
        h("strong", null, "mailadmin"),
        h(
          "span",
          { className: "mailadmin-login-status", "data-testid": "login-status" },
          say(texts, "login.logged_in", { name: session.loginName, role: session.role, until: until }),
        ),
        session.enrollmentRequired ? h("span", { className: "mailadmin-login-error", role: "alert" }, say(texts, "login.enrollment_required")) : null,
        h("button", { type: "button", onClick: props.onLogout }, say(texts, "login.logout")),
      );
    }
    // The two login steps share one form: a field or two, a submit button, what
    // the step is, and the last error.
    function field(labelKey, state, inputProps) {
      return h(
        "label",
        null,
        say(texts, labelKey),
        h(
          "input",
          Object.assign({}, inputProps, {
            required: true,
            value: state[0],
            onChange: function (event) {
              state[1](event.target.value);
            },
          }),
        ),
      );
    }
    function loginForm(fields, submitKey, busyKey, extraButton, statusKey) {
      return h.apply(
        null,
        ["form", { className: "mailadmin-login", onSubmit: submit, "aria-label": say(texts, "login.region") }, h("strong", null, "mailadmin")].concat(fields, [
          h("button", { type: "submit", disabled: busyState[0] }, busyState[0] ? say(texts, busyKey) : say(texts, submitKey)),
          extraButton,
          h("span", { className: "mailadmin-login-status" }, say(texts, statusKey)),
          errorState[0] ? h("span", { className: "mailadmin-login-error", role: "alert" }, errorState[0]) : null,
        ]),
      );
    }
    if (challengeState[0]) {
      var cancel = h(
        "button",
        {
          type: "button",
          onClick: function () {
            challengeState[1](null);
            codeState[1]("");
            errorState[1]("");
          },
        },
        say(texts, "login.cancel"),
      );
      return loginForm(
        [field("login.code", codeState, { name: "code", autoComplete: "one-time-code", inputMode: "text", autoFocus: true })],
        "login.confirm",
        "login.checking",
        cancel,
        "login.second_step",
      );
    }
    return loginForm(
      [
        field("login.identifier", identifierState, { name: "identifier", autoComplete: "username" }),
        field("login.password", passwordState, { name: "password", type: "password", autoComplete: "current-password" }),
      ],
      "login.submit",
      "login.submitting",
      null,
      "login.not_logged_in",
    );
  }

  function ListIcon() {
    return h(
      "svg",
      { viewBox: "0 0 24 24", width: "1em", height: "1em", fill: "none", stroke: "currentColor", strokeWidth: 1.5, "aria-hidden": true },
      h("path", { d: "M8 6h13M8 12h13M8 18h13M3.5 6h.01M3.5 12h.01M3.5 18h.01", strokeLinecap: "round" }),
    );
  }

  function openExample(editor, example) {
    editor.addTab();
    // addTab fills the editors with the new tab's (empty) contents; ours come after it.
    window.setTimeout(function () {
      if (editor.queryEditor) editor.queryEditor.setValue(example.query);
      if (editor.variableEditor) editor.variableEditor.setValue(JSON.stringify(example.variables, null, 2));
    }, 0);
  }

  function examplesPlugin(examples, texts) {
    function ExamplesPanel() {
      var editor = GraphiQL.React.useEditorContext({ nonNull: true });
      return h(
        "div",
        { className: "mailadmin-examples" },
        h("div", { className: "graphiql-doc-explorer-title" }, say(texts, "tasks.title")),
        h("p", null, say(texts, "tasks.intro")),
        h(
          "ul",
          null,
          examples.map(function (example) {
            return h(
              "li",
              { key: example.key },
              h(
                "button",
                {
                  type: "button",
                  onClick: function () {
                    openExample(editor, example);
                  },
                },
                example.title,
              ),
              h("p", null, example.description),
            );
          }),
        ),
      );
    }
    return { title: say(texts, "tasks.title"), icon: ListIcon, content: ExamplesPanel };
  }

  function App(props) {
    var ide = props.ide;
    var sessionState = React.useState(loadSession);
    var session = sessionState[0];
    var sessionRef = React.useRef(session);
    sessionRef.current = session;
    var fetcher = React.useMemo(function () {
      return createFetcher(sessionRef);
    }, []);
    var plugin = React.useMemo(
      function () {
        return examplesPlugin(ide.examples, ide.texts);
      },
      [ide],
    );

    function setSession(next) {
      saveSession(next);
      sessionState[1](next);
      if (next) props.onPreference(next.preferredLanguage);
    }

    return h(
      "div",
      { className: "mailadmin-ide" },
      h(LoginBar, {
        texts: ide.texts,
        language: ide.language,
        session: session,
        onLogin: setSession,
        onLogout: function () {
          setSession(null);
        },
      }),
      h(
        "div",
        { className: "mailadmin-ide-main" },
        h(GraphiQL, {
          fetcher: fetcher,
          defaultQuery: ide.texts.welcome + "\n\n" + ME_QUERY,
          // The active tab shows the token; new tabs start with it.
          headers: headersText(session),
          defaultHeaders: headersText(session),
          shouldPersistHeaders: false,
          defaultEditorToolsVisibility: "variables",
          plugins: [plugin],
          visiblePlugin: plugin,
        }),
      ),
    );
  }

  var root = null;
  var shown = null;

  /** The page's texts and tasks: in the browser's language, else in the preference given, else in DEFAULT_LANGUAGE. */
  function loadTexts(preference) {
    var url = "graphql-ide/texts.json" + (preference ? "?preference=" + encodeURIComponent(preference) : "");
    return window.fetch(url, { credentials: "omit" }).then(function (response) {
      if (!response.ok) throw new Error("texts.json: HTTP " + response.status);
      return response.json();
    });
  }

  function show(ide) {
    shown = ide;
    document.documentElement.lang = ide.language;
    document.title = ide.texts["page.title"];
    if (!root) root = ReactDOM.createRoot(document.getElementById("ide"));
    root.render(h(App, { ide: ide, onPreference: preferenceKnown }));
  }

  /** After a login: the saved preference applies when the browser's Accept-Language named no language with a catalogue. */
  function preferenceKnown(preference) {
    if (!shown || shown.chosenBy === "accept-language" || !preference || preference === shown.language) return;
    loadTexts(preference).then(show, function () {
      // The texts already shown stay.
    });
  }

  var stored = loadSession();
  loadTexts(stored && stored.preferredLanguage).then(show, function (error) {
    document.getElementById("ide").textContent = String(error.message);
  });
})();
