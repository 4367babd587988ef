//! Table-driven parser tests: one case at least per operator and per grammar rule, and the edge
//! cases. Each case gives the canonical form (`Display`) the query must parse to, or the error and
//! its byte offset.

use ediscovery::query::{ParseErrorKind, Query, parse};

/// (input, canonical display)
const OK: &[(&str, &str)] = &[
    // Grammar
    ("", ""),
    ("   ", ""),
    ("merger", "merger"),
    ("merger acquisition", "merger acquisition"),
    ("merger AND acquisition", "merger acquisition"),
    ("merger OR acquisition", "merger OR acquisition"),
    ("a b OR c", "a (b OR c)"),
    ("(a b) OR c", "(a b) OR c"),
    ("a and b", "a and b"),
    ("a or b", "a or b"),
    ("-spam", "-spam"),
    ("NOT spam", "-spam"),
    ("a -(b OR c)", "a -(b OR c)"),
    ("-(-a)", "--a"),
    ("NOT -a", "--a"),
    ("NOT (a NOT b)", "-(a -b)"),
    ("((a))", "a"),
    ("\"term sheet\"", "\"term sheet\""),
    ("-\"term sheet\"", "-\"term sheet\""),
    ("\"-1000%\"", "\"-1000%\""),
    ("invit*", "invit*"),
    ("re: 12:30", "re: 12:30"),
    // Mail operators
    ("from:alice", "from:alice"),
    ("FROM:Alice@Example.com", "from:Alice@Example.com"),
    ("from:*@ink-42.com", "from:*@ink-42.com"),
    ("from:\"Alice Archer\"", "from:\"Alice Archer\""),
    ("from:(alice OR bob)", "from:alice OR from:bob"),
    ("from:(alice bob)", "from:alice from:bob"),
    ("from:(alice -bob)", "from:alice -from:bob"),
    ("to:bob", "to:bob"),
    ("cc:carol", "cc:carol"),
    ("bcc:dan", "bcc:dan"),
    ("subject:budget", "subject:budget"),
    ("subject:\"board deck\"", "subject:\"board deck\""),
    ("label:^deleted", "label:^deleted"),
    ("label:clients-key", "label:clients-key"),
    ("has:attachment", "has:attachment"),
    ("filename:pdf", "filename:pdf"),
    ("filename:falcon-terms.pdf", "filename:falcon-terms.pdf"),
    ("rfc822msgid:<a@b.c>", "rfc822msgid:<a@b.c>"),
    ("rfc822msgid:abc@[192.168.0.1]", "rfc822msgid:abc@[192.168.0.1]"),
    ("after:2023/07/01", "after:2023/07/01"),
    ("after:2023-07-01", "after:2023/07/01"),
    ("before:1688169600", "before:1688169600"),
    ("older_than:30d", "older_than:30d"),
    ("newer_than:2M", "newer_than:2m"),
    ("newer_than:1y", "newer_than:1y"),
    ("larger:10M", "larger:10485760"),
    ("larger:5k", "larger:5120"),
    ("smaller:1000", "smaller:1000"),
    ("size:100", "larger:100"),
    ("list:dev.example.com", "list:dev.example.com"),
    ("deliveredto:alice@example.com", "deliveredto:alice@example.com"),
    ("in:drafts", "in:drafts"),
    ("in:sent", "in:sent"),
    ("in:trash", "in:trash"),
    ("in:anywhere", "in:anywhere"),
    ("is:starred", "is:starred"),
    ("is:unread", "is:unread"),
    // Drive / chat / voice operators parse everywhere (the compiler decides per corpus)
    ("title:\"Q3 plan\"", "title:\"Q3 plan\""),
    ("owner:alice", "owner:alice"),
    ("type:pdf", "type:pdf"),
    ("sharedwith:bob", "sharedwith:bob"),
    // Operators are not operators without a colon, nor unknown names
    ("from", "from"),
    ("foo:bar", "foo:bar"),
    ("subject:from:x", "subject:from:x"),
];

/// (input, byte offset, error kind)
fn errors() -> Vec<(&'static str, usize, ParseErrorKind)> {
    use ParseErrorKind::*;
    vec![
        ("(a OR b", 0, UnbalancedOpen),
        ("a OR b)", 6, UnbalancedClose),
        ("a (b (c)", 2, UnbalancedOpen),
        ("()", 0, EmptyGroup),
        ("\"open", 0, UnclosedQuote),
        ("\"\"", 0, EmptyPhrase),
        ("from:", 0, MissingValue("from".into())),
        ("from: alice", 0, MissingValue("from".into())),
        ("a from:", 2, MissingValue("from".into())),
        ("OR a", 0, MissingLeftOperand("OR")),
        ("AND a", 0, MissingLeftOperand("AND")),
        ("a OR", 2, DanglingOperator("OR")),
        ("a AND", 2, DanglingOperator("AND")),
        ("a NOT", 2, DanglingOperator("NOT")),
        ("a - b", 2, DanglingOperator("-")),
        ("(a OR)", 3, DanglingOperator("OR")),
        ("*", 0, WildcardPosition("*".into())),
        ("*foo", 0, WildcardPosition("*foo".into())),
        ("in*voice", 0, WildcardPosition("in*voice".into())),
        ("subject:*@x.com", 8, WildcardPosition("*@x.com".into())),
        ("has:drive", 4, BadValue { op: "has", value: "drive".into(), expected: "attachment" }),
        (
            "after:2023/13/01",
            6,
            BadValue {
                op: "after",
                value: "2023/13/01".into(),
                expected: "YYYY/MM/DD, YYYY-MM-DD or epoch seconds",
            },
        ),
        (
            "before:2023-02-29",
            7,
            BadValue {
                op: "before",
                value: "2023-02-29".into(),
                expected: "YYYY/MM/DD, YYYY-MM-DD or epoch seconds",
            },
        ),
        (
            "older_than:3w",
            11,
            BadValue {
                op: "older_than",
                value: "3w".into(),
                expected: "a number followed by d, m or y (e.g. 30d)",
            },
        ),
        (
            "larger:lots",
            7,
            BadValue {
                op: "larger",
                value: "lots".into(),
                expected: "bytes, optionally with K or M (e.g. 10M)",
            },
        ),
        (
            "in:somewhere",
            3,
            BadValue {
                op: "in",
                value: "somewhere".into(),
                expected: "drafts, sent, trash, inbox, spam, chats or anywhere",
            },
        ),
    ]
}

#[test]
fn every_operator_and_rule_parses_to_its_canonical_form() {
    for (input, want) in OK {
        let q = parse(input).unwrap_or_else(|e| panic!("{input:?}: {}", e.pointed(input)));
        assert_eq!(q.to_string(), *want, "input {input:?} parsed to {q:?}");
        // And the canonical form is a fixed point.
        assert_eq!(parse(want).unwrap(), q, "{want:?} does not parse back to the same tree");
    }
}

#[test]
fn errors_say_where_and_what() {
    for (input, at, kind) in errors() {
        let e = parse(input).expect_err(input);
        assert_eq!((e.at, &e.kind), (at, &kind), "{input:?}: {}", e.pointed(input));
        // The message names the problem in words.
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn trees_have_the_expected_shape() {
    use ediscovery::query::{Term, Text, TextField};
    assert_eq!(parse("").unwrap(), Query::All);
    let q = parse("from:(a OR b) c").unwrap();
    let Query::And(items) = q else { panic!() };
    assert!(matches!(&items[0], Query::Or(v) if v.len() == 2));
    assert_eq!(items[1], Query::Term(Term::Text(TextField::Any, Text::Word("c".into()))));
    assert_eq!(
        parse("rfc822msgid:<x@[10.0.0.1]>").unwrap(),
        Query::Term(Term::Text(TextField::Rfc822MsgId, Text::Word("<x@[10.0.0.1]>".into())))
    );
    let e = parse("from: alice").unwrap_err();
    assert_eq!(
        e.pointed("from: alice"),
        "from: alice\n^ from: needs a value right after the colon (no space)"
    );
}
