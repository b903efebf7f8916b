//! Level names and numbers: the built-in table plus `--define-level` additions.

use std::fmt;

/// An index into a [`LevelTable`]; records carry this, not the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LevelId(u16);

impl LevelId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

#[derive(Clone, Debug)]
struct LevelDef {
    name: String,
    number: i32,
}

/// The built-in levels, numbered as Python's logging module numbers them.
const BUILTIN: [(&str, i32); 6] = [
    ("NOTSET", 0),
    ("DEBUG", 10),
    ("INFO", 20),
    ("WARNING", 30),
    ("ERROR", 40),
    ("CRITICAL", 50),
];

/// Other spellings users type for the built-in levels.
const ALIASES: [(&str, &str); 2] = [("WARN", "WARNING"), ("FATAL", "CRITICAL")];

/// The built-in level names, lowest first, each with its other spellings: what help and
/// shell completion offer.
pub fn builtin_names() -> impl Iterator<Item = (&'static str, Vec<&'static str>)> {
    BUILTIN.iter().map(|&(name, _)| {
        let aliases = ALIASES
            .iter()
            .filter(|&&(_, target)| target == name)
            .map(|&(alias, _)| alias)
            .collect();
        (name, aliases)
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LevelError {
    Unknown {
        given: String,
        known: String,
    },
    /// The definition as given, and what is wrong with it.
    BadDefinition(String, &'static str),
    Redefined(String),
}

impl fmt::Display for LevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LevelError::Unknown { given, known } => {
                write!(f, "unknown level '{given}'; known levels: {known}")
            }
            LevelError::BadDefinition(given, what) => write!(
                f,
                "bad level definition '{given}': {what}; expected NAME=NUMBER, e.g. --define-level NOTICE=25"
            ),
            LevelError::Redefined(name) => write!(
                f,
                "level '{name}' is already defined; pick another name for --define-level"
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct LevelTable {
    levels: Vec<LevelDef>,
}

impl Default for LevelTable {
    fn default() -> Self {
        LevelTable {
            levels: BUILTIN
                .iter()
                .map(|&(name, number)| LevelDef {
                    name: name.to_string(),
                    number,
                })
                .collect(),
        }
    }
}

impl LevelTable {
    pub const INFO: LevelId = LevelId(2);
    pub const ERROR: LevelId = LevelId(4);

    /// Adds a level from `NAME=NUMBER` (`--define-level`).
    pub fn define(&mut self, spec: &str) -> Result<LevelId, LevelError> {
        let bad = |what| LevelError::BadDefinition(spec.to_string(), what);
        let (name, number) = spec.split_once('=').ok_or_else(|| bad("no '='"))?;
        let name = name.trim();
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_name {
            return Err(bad("the name may hold only letters, digits, '_' and '-'"));
        }
        let number: i32 = number
            .trim()
            .parse()
            .map_err(|_| bad("the number must be a whole number from -2147483648 to 2147483647"))?;
        if self.lookup(name).is_some() {
            return Err(LevelError::Redefined(name.to_ascii_uppercase()));
        }
        let id = LevelId(u16::try_from(self.levels.len()).map_err(|_| bad("too many levels"))?);
        self.levels.push(LevelDef {
            name: name.to_ascii_uppercase(),
            number,
        });
        Ok(id)
    }

    /// Finds a level by name, in any case, aliases included.
    pub fn lookup(&self, name: &str) -> Option<LevelId> {
        let canonical = ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map_or(name, |&(_, target)| target);
        self.levels
            .iter()
            .position(|l| l.name.eq_ignore_ascii_case(canonical))
            .map(|i| LevelId(i as u16))
    }

    /// Like [`lookup`](Self::lookup), with an error that lists the known names.
    pub fn parse(&self, name: &str) -> Result<LevelId, LevelError> {
        self.lookup(name).ok_or_else(|| LevelError::Unknown {
            given: name.to_string(),
            known: self.known_names(),
        })
    }

    /// Every level, built-in ones first.
    pub fn ids(&self) -> impl Iterator<Item = LevelId> + use<> {
        (0..self.levels.len() as u16).map(LevelId)
    }

    pub fn name(&self, id: LevelId) -> &str {
        &self.levels[usize::from(id.0)].name
    }

    pub fn number(&self, id: LevelId) -> i32 {
        self.levels[usize::from(id.0)].number
    }

    /// The built-in level whose number is the highest not above `id`'s (NOTSET at worst):
    /// how a custom level maps onto fixed scales such as syslog severities and colours.
    pub fn nearest_builtin_at_or_below(&self, id: LevelId) -> LevelId {
        let number = self.number(id);
        let index = BUILTIN.iter().rposition(|&(_, n)| n <= number).unwrap_or(0);
        LevelId(index as u16)
    }

    pub fn known_names(&self) -> String {
        let mut names: Vec<String> = self
            .levels
            .iter()
            .map(|l| format!("{} ({})", l.name, l.number))
            .collect();
        names.extend(ALIASES.iter().map(|(a, t)| format!("{a} (= {t})")));
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_in_any_case_with_aliases() {
        let t = LevelTable::default();
        assert_eq!(t.parse("error"), Ok(LevelTable::ERROR));
        assert_eq!(t.parse("Info"), Ok(LevelTable::INFO));
        assert_eq!(t.number(t.parse("warn").unwrap()), 30);
        assert_eq!(t.name(t.parse("fatal").unwrap()), "CRITICAL");
        assert_eq!(t.number(t.parse("NOTSET").unwrap()), 0);
    }

    #[test]
    fn unknown_level_lists_known_ones() {
        let err = LevelTable::default().parse("LOUD").unwrap_err().to_string();
        assert!(err.contains("'LOUD'"), "{err}");
        assert!(err.contains("WARNING (30)"), "{err}");
    }

    #[test]
    fn define_adds_a_level_and_refuses_builtins() {
        let mut t = LevelTable::default();
        let notice = t.define("notice=25").unwrap();
        assert_eq!(t.name(notice), "NOTICE");
        assert_eq!(t.parse("NOTICE"), Ok(notice));
        assert_eq!(t.name(t.nearest_builtin_at_or_below(notice)), "INFO");
        assert!(matches!(
            t.define("ERROR=45"),
            Err(LevelError::Redefined(_))
        ));
        assert!(matches!(t.define("WARN=45"), Err(LevelError::Redefined(_))));
        assert!(matches!(t.define("x"), Err(LevelError::BadDefinition(..))));
        assert!(matches!(
            t.define("a b=1"),
            Err(LevelError::BadDefinition(..))
        ));
        assert!(matches!(
            t.define("X=big"),
            Err(LevelError::BadDefinition(..))
        ));
    }
}

/// Single letters taken as a level when written `W:` or `[W]`.
const LETTERS: [(u8, &str); 6] = [
    (b'D', "DEBUG"),
    (b'I', "INFO"),
    (b'W', "WARNING"),
    (b'E', "ERROR"),
    (b'C', "CRITICAL"),
    (b'F', "CRITICAL"),
];

/// sd-daemon priorities `<0>`..`<7>` as levels (syslog emerg, alert and crit are all CRITICAL).
const SD_PRIORITIES: [&str; 8] = [
    "CRITICAL", "CRITICAL", "CRITICAL", "ERROR", "WARNING", "INFO", "INFO", "DEBUG",
];

impl LevelTable {
    /// `--parse-level`: finds a level marker at the start of `line` and returns the level
    /// and how many bytes to strip (the marker and the blanks after it). Markers:
    /// `<0>`..`<7>` (sd-daemon); `[NAME]` or `[X]`; `NAME:`, `NAME` before a blank or the
    /// end of the line; `X:`. NAME is any level name or alias in any case; X is one of
    /// D, I, W, E, C, F.
    pub fn parse_marker(&self, line: &[u8]) -> Option<(LevelId, usize)> {
        if let [b'<', digit @ b'0'..=b'7', b'>', ..] = line {
            let id = self.lookup(SD_PRIORITIES[usize::from(digit - b'0')])?;
            return Some((id, 3 + blanks(&line[3..])));
        }
        let (word, after) = if let Some(rest) = line.strip_prefix(b"[") {
            let close = rest.iter().position(|&b| b == b']')?;
            let end = 1 + close + 1;
            let colon = usize::from(line.get(end) == Some(&b':'));
            (&rest[..close], end + colon)
        } else {
            let len = line
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-'))
                .unwrap_or(line.len());
            match line.get(len) {
                Some(b':') => (&line[..len], len + 1),
                // A bare letter needs its colon: "I went home" is not a level.
                Some(b' ' | b'\t') | None if len > 1 => (&line[..len], len),
                _ => return None,
            }
        };
        let word = std::str::from_utf8(word).ok()?;
        let id = self.lookup(word).or_else(|| {
            let [letter] = word.as_bytes() else {
                return None;
            };
            let name = LETTERS
                .iter()
                .find(|(l, _)| l.eq_ignore_ascii_case(letter))?
                .1;
            self.lookup(name)
        })?;
        Some((id, after + blanks(&line[after..])))
    }
}

fn blanks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

#[cfg(test)]
mod marker_tests {
    use super::*;

    fn parse(line: &str) -> Option<(String, String)> {
        let t = LevelTable::default();
        t.parse_marker(line.as_bytes())
            .map(|(id, n)| (t.name(id).to_string(), line[n..].to_string()))
    }

    fn some(level: &str, rest: &str) -> Option<(String, String)> {
        Some((level.to_string(), rest.to_string()))
    }

    #[test]
    fn markers_set_the_level_and_are_stripped() {
        assert_eq!(parse("<3>disk failed"), some("ERROR", "disk failed"));
        assert_eq!(parse("<7> detail"), some("DEBUG", "detail"));
        assert_eq!(parse("<0>panic"), some("CRITICAL", "panic"));
        assert_eq!(parse("ERROR disk full"), some("ERROR", "disk full"));
        assert_eq!(parse("error: disk full"), some("ERROR", "disk full"));
        assert_eq!(parse("[WARN] low"), some("WARNING", "low"));
        assert_eq!(parse("[warning]: low"), some("WARNING", "low"));
        assert_eq!(parse("W: low"), some("WARNING", "low"));
        assert_eq!(parse("[E] bad"), some("ERROR", "bad"));
        assert_eq!(parse("fatal:x"), some("CRITICAL", "x"));
        assert_eq!(parse("DEBUG"), some("DEBUG", ""));
    }

    #[test]
    fn ordinary_text_is_not_a_marker() {
        assert_eq!(parse("I went home"), None);
        assert_eq!(parse("Errors: 0"), None);
        assert_eq!(parse("<8>x"), None);
        assert_eq!(parse("[note] x"), None);
        assert_eq!(parse("information"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("[unclosed"), None);
    }
}
