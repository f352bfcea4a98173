// mailadmin's GraphQL IDE: GraphiQL (served by this server, no CDN) with a
// login helper above it and the support desk's example operations in a side
// panel. Loaded as a file, not inline, so that the page runs under a
// Content-Security-Policy of script-src 'self'.
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

  var WELCOME = [
    "# mailadmin: GraphQL IDE for support staff",
    "#",
    "# 1. Log in above with your support username (or a mailbox address). The",
    "#    token goes into this tab's request headers (Headers, below) and is sent",
    "#    by every tab until you log out.",
    '# 2. Pick a task in "Support tasks" (the list icon on the left): it opens in',
    "#    a new tab with example variables to adjust. Or write a query here:",
    "#    Ctrl-Space completes, Ctrl-Enter runs, the book icon opens the schema.",
    "",
    "query Me {",
    "  me {",
    "    __typename",
    "    loginName",
    "    role",
    "    displayName",
    "  }",
    "}",
    "",
  ].join("\n");

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
    "mutation Login($identifier: String!, $password: String!) { login(identifier: $identifier, password: $password) { token expiresAt enrollmentRequired principal { loginName role } challenge { challenge } } }";
  // The second step of a login with two-factor login on: the code of the authenticator app, or a recovery code.
  var COMPLETE_LOGIN =
    "mutation CompleteLogin($challenge: String!, $code: String!) { completeLogin(challenge: $challenge, code: $code) { token expiresAt principal { loginName role } } }";

  function LoginBar(props) {
    var identifierState = React.useState("");
    var passwordState = React.useState("");
    var busyState = React.useState(false);
    var errorState = React.useState("");
    // Set after a right password when a second step is needed: the challenge completeLogin takes.
    var challengeState = React.useState(null);
    var codeState = React.useState("");
    var session = props.session;

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
            if (request.field === "completeLogin" && answer.errors[0].message.indexOf("log in again") >= 0) challengeState[1](null);
            return;
          }
          codeState[1]("");
          started(answer.data[request.field]);
        })
        .catch(function (error) {
          errorState[1]("The server did not answer: " + error.message);
        })
        .finally(function () {
          busyState[1](false);
        });
    }

    if (session) {
      var until = new Date(session.expiresAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      return h(
        "div",
        { className: "mailadmin-login", role: "region", "aria-label": "Login" },
        h("strong", null, "mailadmin"),
        h("span", { className: "mailadmin-login-status", "data-testid": "login-status" }, "Logged in as " + session.loginName + " (" + session.role + "), until " + until),
        session.enrollmentRequired
          ? h(
              "span",
              { className: "mailadmin-login-error", role: "alert" },
              "Two-factor login is compulsory for you: run startTotpEnrollment, scan the QR code, confirm with confirmTotpEnrollment, then log in again.",
            )
          : null,
        h("button", { type: "button", onClick: props.onLogout }, "Log out"),
      );
    }
    if (challengeState[0]) {
      return h(
        "form",
        { className: "mailadmin-login", onSubmit: submit, "aria-label": "Login" },
        h("strong", null, "mailadmin"),
        h(
          "label",
          null,
          "Code from your authenticator app (or a recovery code)",
          h("input", {
            name: "code",
            autoComplete: "one-time-code",
            inputMode: "text",
            required: true,
            autoFocus: true,
            value: codeState[0],
            onChange: function (event) {
              codeState[1](event.target.value);
            },
          }),
        ),
        h("button", { type: "submit", disabled: busyState[0] }, busyState[0] ? "Checking…" : "Confirm"),
        h(
          "button",
          {
            type: "button",
            onClick: function () {
              challengeState[1](null);
              codeState[1]("");
              errorState[1]("");
            },
          },
          "Cancel",
        ),
        h("span", { className: "mailadmin-login-status" }, "Password accepted: second step."),
        errorState[0] ? h("span", { className: "mailadmin-login-error", role: "alert" }, errorState[0]) : null,
      );
    }
    return h(
      "form",
      { className: "mailadmin-login", onSubmit: submit, "aria-label": "Login" },
      h("strong", null, "mailadmin"),
      h(
        "label",
        null,
        "Username or address",
        h("input", {
          name: "identifier",
          autoComplete: "username",
          required: true,
          value: identifierState[0],
          onChange: function (event) {
            identifierState[1](event.target.value);
          },
        }),
      ),
      h(
        "label",
        null,
        "Password",
        h("input", {
          name: "password",
          type: "password",
          autoComplete: "current-password",
          required: true,
          value: passwordState[0],
          onChange: function (event) {
            passwordState[1](event.target.value);
          },
        }),
      ),
      h("button", { type: "submit", disabled: busyState[0] }, busyState[0] ? "Logging in…" : "Log in"),
      h("span", { className: "mailadmin-login-status" }, "Not logged in."),
      errorState[0] ? h("span", { className: "mailadmin-login-error", role: "alert" }, errorState[0]) : null,
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

  function examplesPlugin(examples) {
    function ExamplesPanel() {
      var editor = GraphiQL.React.useEditorContext({ nonNull: true });
      return h(
        "div",
        { className: "mailadmin-examples" },
        h("div", { className: "graphiql-doc-explorer-title" }, "Support tasks"),
        h("p", null, "Each opens in a new tab with example variables: adjust them, then run."),
        h(
          "ul",
          null,
          examples.map(function (example) {
            return h(
              "li",
              { key: example.title },
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
    return { title: "Support tasks", icon: ListIcon, content: ExamplesPanel };
  }

  function App(props) {
    var sessionState = React.useState(loadSession);
    var session = sessionState[0];
    var sessionRef = React.useRef(session);
    sessionRef.current = session;
    var fetcher = React.useMemo(function () {
      return createFetcher(sessionRef);
    }, []);
    var plugin = React.useMemo(
      function () {
        return examplesPlugin(props.examples);
      },
      [props.examples],
    );

    function setSession(next) {
      saveSession(next);
      sessionState[1](next);
    }

    return h(
      "div",
      { className: "mailadmin-ide" },
      h(LoginBar, {
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
          defaultQuery: WELCOME,
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

  function start(examples) {
    ReactDOM.createRoot(document.getElementById("ide")).render(h(App, { examples: examples }));
  }

  window
    .fetch("graphql-ide/examples.json", { credentials: "omit" })
    .then(function (response) {
      return response.ok ? response.json() : [];
    })
    .catch(function () {
      return [];
    })
    .then(start);
})();
