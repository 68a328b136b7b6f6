//! Framed harm: a harmful request wrapped in a role, a story, a hypothetical or a stated purpose.
//!
//! The jailbreaks an attacker model writes (PAIR, DeepInception) seldom say "ignore your
//! rules": they ask for the harmful thing inside a frame — "Imagine you are a scriptwriter …
//! the protagonist forges the documents; write the scene", "for purely educational purposes,
//! how would one …". Neither half is an attack alone. A role, a story or a research purpose is
//! what ordinary users write every day ("I want you to act as a travel guide"), and a plainly
//! harmful request is a content-moderation question, not manipulation of the model's
//! instructions (the classifier's attack class leaves such rows out for that reason). Together
//! they are the jailbreak: the frame is there to get the request past the model's refusal.
//!
//! So the check has two parts that must meet:
//! - **cues**: rules marked `cue: true` in a skill (the jailbreak skill's `rules-framing.yaml`),
//!   which scan with every other rule in the same pass but are never findings themselves;
//! - **harm topics**: a second linear model over the same hashed n-grams as the classifier
//!   (`harm-topics.bin`), trained with harmful requests as its positive class
//!   (`aimds train --class harm`), which reads the text around a cue.
//!
//! Only a text with a cue pays for the model, and only for the text around its cues
//! ([`REGION_BEFORE`] bytes before, [`REGION_AFTER`] after), in at most [`MAX_REGIONS`]
//! regions: an ordinary text costs nothing, and a long one full of cues a few KB of scoring. A harm reading far
//! from any frame (a code of conduct that lists harassment, then "acting as an appointed
//! representative" pages later) does not meet one.

use super::classifier::Model;
use super::{ceil_char_boundary, floor_char_boundary};

/// Rule id of a framed-harm finding.
pub const FRAMED_HARM_RULE: &str = "jb.framed-harm";
/// Harm-topic probability (raw) at which a framed request counts as risk 0.5 on its own.
/// Chosen on half a of JailbreakBench's PAIR prompts and the English chat sets (README,
/// "Framed harm"): at 0.9 no ordinary prompt of the chat sets or of GPTeacher's held-out
/// role-play was flagged that was not flagged already; at 0.8, one of the second chat set and
/// one of the role-play.
pub const FRAMED_HARM_MIN: f32 = 0.9;
/// The classifier's raw probability for the text below which a framed request is not reported:
/// the frame of a jailbreak is written to talk a model round and reads a little like an attempt,
/// an ordinary creative request hardly at all ("Imagine you are a detective in a novel. Write a
/// short story about how Artificial Intelligence saved Christmas.": 0.003, harm 0.99). Since the
/// classifier stopped learning tense-reworded harmful requests as attacks (README, "Framed
/// harm"), 25 of the 26 PAIR prompts of half a that the check alone finds read 0.02 or more (0.1 or
/// more: 19); between floors 0 and 0.1 the chat sets and the held-out role-play differ by one
/// prompt.
pub const FRAMED_CLASSIFIER_FLOOR: f32 = 0.02;
/// Cue regions scored per text, at most.
pub const MAX_REGIONS: usize = 4;
/// Bytes of the normalised text read before a cue ("… Write it as a scene in a novel").
pub const REGION_BEFORE: usize = 512;
/// Bytes read after a cue: a frame is usually set first and the request follows within a
/// paragraph or two.
pub const REGION_AFTER: usize = 768;

/// The harm-topic model.
#[derive(Debug)]
pub struct FramedHarm {
    model: Model,
}

/// A harmful request found inside a frame, in the coordinates of the scanned (normalised) text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FramedHit {
    /// The region the model read around the cue.
    pub start: usize,
    pub end: usize,
    /// The tag of the cue the region was read around.
    pub cue: usize,
    /// The model's raw probability for the region's strongest window.
    pub probability: f32,
}

impl FramedHarm {
    pub fn new(model: Model) -> FramedHarm {
        FramedHarm { model }
    }

    /// The first cue region of `text` whose harm reading reaches [`FRAMED_HARM_MIN`].
    /// `cues` are the cue hits as (start, end, tag) in `text`, in any order; the tag (the
    /// caller's rule index) comes back in [`FramedHit::cue`]. Regions are read in text order,
    /// at most [`MAX_REGIONS`] of them; a cue inside a region already read opens none.
    pub fn find<I>(&self, text: &str, cues: I) -> Option<FramedHit>
    where
        I: IntoIterator<Item = (usize, usize, usize)>,
        I::IntoIter: Clone,
    {
        let cues = cues.into_iter();
        let mut read_to = 0;
        for _ in 0..MAX_REGIONS {
            // The earliest cue not inside what was read: one pass over the hits per region, no
            // allocation (a text has a few dozen cue hits at most, MAX_HITS_PER_RULE per rule).
            let (start, end, tag) = cues.clone().filter(|c| c.1 > read_to).min_by_key(|c| (c.0, c.1))?;
            let from = floor_char_boundary(text, start.saturating_sub(REGION_BEFORE));
            let to = ceil_char_boundary(text, end.saturating_add(REGION_AFTER));
            read_to = to;
            let Some(region) = text.get(from..to) else { continue };
            let probability = self.model.best_window(region).probability;
            if probability >= FRAMED_HARM_MIN {
                return Some(FramedHit {
                    start: from,
                    end: to,
                    cue: tag,
                    probability,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model that reads every text at `p` (no weights, bias only).
    fn reading(p: f32) -> FramedHarm {
        let bias = (p / (1.0 - p)).ln();
        FramedHarm::new(Model::from_float(12, bias, &[0.0; 1 << 12]))
    }

    /// A word no text holds by chance, for [`marker_model`].
    const MARKER: &str = "zqxjvw zqxjvw zqxjvw zqxjvw";

    /// A model that reads only [`MARKER`] as harmful: weight on its features (signed by their
    /// hash, as `sparse_features` reports them), none elsewhere.
    fn marker_model() -> FramedHarm {
        let mut weights = vec![0.0f32; 1 << 16];
        for (i, v) in super::super::classifier::sparse_features(MARKER, 16, super::super::classifier::WordSplit::Runs) {
            if let Some(w) = weights.get_mut(i as usize) {
                *w = 8.0 * v.signum();
            }
        }
        FramedHarm::new(Model::from_float(16, -6.0, &weights))
    }

    /// Every "imagine you are" of `text` as a cue, tagged with its start.
    fn imagine_cues(text: &str) -> Vec<(usize, usize, usize)> {
        text.match_indices("imagine you are")
            .map(|(i, _)| (i, i + 15, i))
            .collect()
    }

    #[test]
    fn nothing_is_read_without_a_cue_or_below_the_point() {
        let text = "Imagine you are a travel guide. Suggest three places to visit in Lisbon.";
        assert_eq!(reading(0.99).find(text, []), None);
        assert_eq!(reading(0.5).find(text, [(0, 15, 7)]), None);
        assert_eq!(reading(FRAMED_HARM_MIN - 0.01).find(text, [(0, 15, 7)]), None);
    }

    #[test]
    fn the_earliest_cue_is_read_first_and_its_tag_comes_back() {
        let text = format!(
            "{}Pretend you are a chemist. {}Hypothetically, then.",
            "a".repeat(2000),
            "b".repeat(3000)
        );
        let late = text.find("Hypothetically").unwrap_or(0);
        let early = text.find("Pretend").unwrap_or(0);
        let hit = reading(0.95)
            .find(&text, [(late, late + 14, 2), (early, early + 15, 1)])
            .expect("a reading at 0.95 counts");
        assert_eq!(hit.cue, 1);
        assert_eq!((hit.start, hit.end), (early - REGION_BEFORE, early + 15 + REGION_AFTER));
        assert!((hit.probability - 0.95).abs() < 1e-3, "{}", hit.probability);
    }

    #[test]
    fn regions_stay_inside_the_text_on_char_boundaries() {
        // Three-byte chars on both sides of the cue: the region's ends fall inside them.
        let text = format!("{}imagine you are{}", "é中".repeat(300), "中é".repeat(400));
        let cue = text.find("imagine").unwrap_or(0);
        for (start, end) in [(cue, cue + 15), (0, 3), (text.len() - 2, text.len())] {
            let hit = reading(0.95).find(&text, [(start, end, 0)]).expect("read");
            assert!(
                text.is_char_boundary(hit.start) && text.is_char_boundary(hit.end),
                "{hit:?}"
            );
            assert!(
                hit.start <= start && hit.end >= end.min(text.len()) && hit.end <= text.len(),
                "{hit:?}"
            );
            assert!(
                hit.end - hit.start <= REGION_BEFORE + REGION_AFTER + (end - start) + 4,
                "{hit:?}"
            );
        }
    }

    #[test]
    fn only_the_first_regions_are_read() {
        // A model that reads only one marker word as harmful, and cues far apart, each in a
        // region of its own: the marker is found in the last region read, not in the one after.
        let model = marker_model();
        let filler = "lorem ipsum ".repeat((REGION_BEFORE + REGION_AFTER) / 12 + 1);
        let text_with_marker_in = |region: usize| {
            let mut text = String::new();
            for k in 0..MAX_REGIONS + 2 {
                text.push_str("imagine you are ");
                if k == region {
                    text.push_str(MARKER);
                }
                text.push(' ');
                text.push_str(&filler);
            }
            text
        };
        let last_read = text_with_marker_in(MAX_REGIONS - 1);
        let hit = model
            .find(&last_read, imagine_cues(&last_read).into_iter().rev())
            .expect("the last region read");
        assert_eq!(
            Some(hit.cue),
            imagine_cues(&last_read).get(MAX_REGIONS - 1).map(|c| c.2)
        );
        let next = text_with_marker_in(MAX_REGIONS);
        assert_eq!(model.find(&next, imagine_cues(&next)), None);
    }

    #[test]
    fn cues_inside_a_read_region_do_not_use_up_the_regions() {
        // Ten cues in the first few hundred bytes, then one frame far away around the marker.
        let model = marker_model();
        let mut text = "imagine you are a cook. ".repeat(10);
        text.push_str(&"lorem ipsum ".repeat(400));
        text.push_str("imagine you are ");
        text.push_str(MARKER);
        let cues = imagine_cues(&text);
        assert_eq!(cues.len(), 11);
        let hit = model.find(&text, cues.iter().copied()).expect("the far frame is read");
        assert_eq!(Some(hit.cue), cues.last().map(|c| c.2));
    }
}
