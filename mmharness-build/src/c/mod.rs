//! Reading kernel C: one lexer ([`lex`]), and on it the top-level function
//! items ([`items`]) and the members of struct, union and enum definitions
//! ([`decl`]). Every other module reads kernel text through these.

pub mod decl;
pub mod items;
pub mod lex;

pub use items::Item;
pub use lex::{LexError, Lexed};

/// A kernel file read once: lexed, with its function items.
#[derive(Debug, Clone)]
pub struct File {
    pub lexed: Lexed,
    pub items: Vec<Item>,
}

impl File {
    /// Lexes `text`, the file at `path` in the tree.
    pub fn new(path: &str, text: &str) -> Result<Self, LexError> {
        let lexed = Lexed::new(path, text)?;
        let items = items::items(&lexed);
        Ok(Self { lexed, items })
    }

    pub fn path(&self) -> &str {
        &self.lexed.path
    }

    pub fn text(&self) -> &str {
        &self.lexed.text
    }

    /// The definitions of `name`, in file order (an `#else` branch too).
    pub fn definitions<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |i| i.name == name && i.is_definition())
    }

    /// The first definition or prototype of `name`.
    pub fn declaration(&self, name: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.name == name)
    }

    /// The source text of an item's whole lines.
    pub fn item_text(&self, item: &Item) -> &str {
        &self.text()[item.lines.clone()]
    }

    /// The first `KIND NAME { ... }` definition in this file.
    pub fn aggregate(&self, kind: decl::Kind, name: &str) -> Option<decl::Definition> {
        decl::parse(&self.lexed, kind, name)
    }
}
