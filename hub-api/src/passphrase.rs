//! Retrieval passwords: four everyday Hungarian words drawn with the OS's CSPRNG from a list of
//! 2,491 (`data/passphrase-words-hu.txt`, made by `data/make-wordlist.py`), joined with `-`,
//! like `alma-kerék-madár-felhő`: about 45 bits, and easy to read out on the phone. No two words
//! of the list fold to the same letters without accents, so a password typed without accents
//! (`alma-kerek-madar-felho`) is the same password.

use std::sync::OnceLock;

use hub_shared::validate::{fold_passphrase, PASSPHRASE_WORDS};
use rand::seq::SliceRandom;

const WORD_FILE: &str = include_str!("../data/passphrase-words-hu.txt");

/// The word list, in file order.
pub fn words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| WORD_FILE.lines().map(str::trim).filter(|w| !w.is_empty()).collect())
}

/// A new retrieval password.
pub fn generate() -> String {
    let mut rng = rand::rngs::OsRng;
    let list = words();
    (0..PASSPHRASE_WORDS)
        .map(|_| *list.choose(&mut rng).expect("the word list is not empty"))
        .collect::<Vec<_>>()
        .join("-")
}

/// The entropy of a generated password in bits.
pub fn entropy_bits() -> f64 {
    PASSPHRASE_WORDS as f64 * (words().len() as f64).log2()
}

/// The form in which a typed password is hashed and compared (see [`fold_passphrase`]).
pub fn canonical(typed: &str) -> String {
    fold_passphrase(typed)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_list_is_long_unique_and_well_formed() {
        let list = words();
        assert!(list.len() >= 2048, "only {} words", list.len());
        let unique: HashSet<_> = list.iter().collect();
        assert_eq!(unique.len(), list.len(), "duplicate words");
        let folded: HashSet<_> = list.iter().map(|w| fold_passphrase(w)).collect();
        assert_eq!(folded.len(), list.len(), "two words differ only in accents");
        for w in list {
            let n = w.chars().count();
            assert!((3..=8).contains(&n), "{w} has {n} letters");
            assert!(w.chars().all(|c| c.is_ascii_lowercase() || "áéíóöőúüű".contains(c)), "{w}");
        }
        assert!(list.iter().any(|w| w.contains(['á', 'é', 'ő', 'ű'])), "the list has accented words");
    }

    /// How a word sounds, roughly: accents folded, `ly` = `j`, double consonants single.
    fn sound(word: &str) -> Vec<char> {
        let folded = fold_passphrase(word).replace("ly", "j");
        let mut out: Vec<char> = Vec::new();
        for c in folded.chars() {
            if out.last() != Some(&c) {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn no_two_words_sound_alike_or_differ_only_in_their_last_letter() {
        let mut sounds = HashSet::new();
        let mut stems = HashSet::new();
        for w in words() {
            let s = sound(w);
            assert!(sounds.insert(s.clone()), "{w} sounds like another word");
            let stem = (s[..s.len() - 1].to_vec(), s.len());
            assert!(stems.insert(stem), "{w} differs from another word only in its last letter");
        }
        for w in words() {
            let s = sound(w);
            assert!(!sounds.contains(&s[..s.len() - 1]), "{w} is another word plus one letter");
        }
    }

    #[test]
    fn passwords_are_four_words_with_enough_entropy() {
        assert!(entropy_bits() >= 44.0, "{} bits", entropy_bits());
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let p = generate();
            assert!(hub_shared::validate::passphrase(&p).is_ok(), "{p}");
            assert_eq!(p.split('-').count(), 4);
            assert!(p.split('-').all(|w| words().contains(&w)));
            seen.insert(p);
        }
        assert!(seen.len() > 195, "passwords repeat");
    }

    #[test]
    fn a_password_typed_without_accents_is_the_same() {
        assert_eq!(canonical("alma-kerék-madár-felhő"), canonical("Alma kerek madar felho"));
    }
}
