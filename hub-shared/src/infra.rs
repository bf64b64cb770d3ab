//! Infrastructure backups (`/api/v1/infra-backup`) and the recovery bundle
//! (`/api/v1/recovery/{id}`): what a fresh node needs to rebuild a customer's deployment.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::{self, FieldError};

/// The largest infra backup accepted, as sent (10 MiB).
pub const MAX_BACKUP_BYTES: usize = 10 * 1024 * 1024;
/// How many backups the hub keeps per customer.
pub const KEPT_VERSIONS: usize = 10;
pub const MAX_DISKS: usize = 64;
pub const MAX_STACKS: usize = 512;
pub const MAX_BIND_MOUNTS: usize = 256;

/// A bind mount of a disk: a path, or a source and a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum BindMount {
    Path(String),
    Mount {
        source: String,
        target: String,
        #[serde(default)]
        options: String,
    },
}

/// One disk of the node and where it is mounted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Disk {
    /// The filesystem UUID (`blkid`): a UUID, or a FAT/NTFS serial.
    pub uuid: String,
    #[serde(default)]
    pub label: String,
    pub mount_point: String,
    #[serde(default)]
    pub fstab_options: String,
    #[serde(default)]
    pub bind_mounts: Vec<BindMount>,
}

/// One deployed app stack.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stack {
    pub app: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub hdd_path: String,
}

/// The restic repository passwords of the node's backups.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResticPasswords {
    pub primary: String,
    #[serde(default)]
    pub cross_drive: String,
}

impl std::fmt::Debug for ResticPasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResticPasswords(<redacted>)")
    }
}

/// The query of `GET /api/v1/infra-backup/{customer_id}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct VersionQuery {
    /// A kept version; the newest when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// The snapshot a controller pushes (`POST /api/v1/infra-backup`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InfraBackupIn {
    pub customer_id: String,
    /// The node's `controller.yaml`, base64.
    pub controller_yaml: String,
    /// The node's `settings.json`, base64.
    pub settings_json: String,
    #[serde(default)]
    pub disks: Vec<Disk>,
    #[serde(default)]
    pub stacks: Vec<Stack>,
    pub restic_passwords: ResticPasswords,
}

impl InfraBackupIn {
    /// Checks the snapshot; the error names the field that is wrong.
    pub fn validate(&self) -> Result<(), FieldError> {
        let err = |field: &str, msg: String| Err(FieldError::new(field, msg));
        if let Err(msg) = validate::claimed_customer_id(&self.customer_id) {
            return err("customer_id", msg);
        }
        for (field, value) in [("controller_yaml", &self.controller_yaml), ("settings_json", &self.settings_json)] {
            if value.len() > MAX_BACKUP_BYTES {
                return err(field, format!("{field} must be at most {MAX_BACKUP_BYTES} bytes"));
            }
            if !is_base64(value) {
                return err(field, format!("{field} must be base64 (standard alphabet, padded)"));
            }
        }
        if self.controller_yaml.is_empty() {
            return err("controller_yaml", "controller_yaml must not be empty".into());
        }
        if self.disks.len() > MAX_DISKS {
            return err("disks", format!("disks may list at most {MAX_DISKS} entries"));
        }
        for (i, disk) in self.disks.iter().enumerate() {
            let at = |name: &str| format!("disks[{i}].{name}");
            if !validate::is_fs_uuid(&disk.uuid) {
                let field = at("uuid");
                return err(
                    &field,
                    format!("{field} must be a filesystem UUID like 0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e"),
                );
            }
            // Each of these ends up in /etc/fstab on a restored node: checked as the shapes
            // they are, so a planted backup cannot add lines or fields there.
            let checks = [
                ("mount_point", validate::fstab_path(&disk.mount_point)),
                ("fstab_options", validate::mount_options(&disk.fstab_options)),
                ("label", validate::fs_label(&disk.label)),
            ];
            for (name, result) in checks {
                if let Err(msg) = result {
                    let field = at(name);
                    return err(&field, format!("{field} {msg}"));
                }
            }
            if disk.bind_mounts.len() > MAX_BIND_MOUNTS {
                let field = at("bind_mounts");
                return err(&field, format!("{field} may list at most {MAX_BIND_MOUNTS} entries"));
            }
            for (j, mount) in disk.bind_mounts.iter().enumerate() {
                let checks = match mount {
                    BindMount::Path(path) => vec![(String::new(), validate::fstab_path(path))],
                    BindMount::Mount { source, target, options } => vec![
                        (".source".into(), validate::fstab_path(source)),
                        (".target".into(), validate::fstab_path(target)),
                        (".options".into(), validate::mount_options(options)),
                    ],
                };
                for (name, result) in checks {
                    if let Err(msg) = result {
                        let field = format!("disks[{i}].bind_mounts[{j}]{name}");
                        return err(&field, format!("{field} {msg}"));
                    }
                }
            }
        }
        if self.stacks.len() > MAX_STACKS {
            return err("stacks", format!("stacks may list at most {MAX_STACKS} entries"));
        }
        for (i, stack) in self.stacks.iter().enumerate() {
            if stack.app.trim().is_empty() {
                let field = format!("stacks[{i}].app");
                return err(&field, format!("{field} must not be empty"));
            }
        }
        if self.restic_passwords.primary.is_empty() {
            return err("restic_passwords.primary", "restic_passwords.primary must not be empty".into());
        }
        Ok(())
    }
}

/// Whether `value` is standard padded base64, checked a piece at a time: a 10 MiB value is
/// never decoded into memory whole.
fn is_base64(value: &str) -> bool {
    const PIECE: usize = 4 * 1024;
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = value.as_bytes();
    let mut out = [0u8; PIECE / 4 * 3];
    let pieces = bytes.len().div_ceil(PIECE);
    bytes.len().is_multiple_of(4)
        && bytes.chunks(PIECE).enumerate().all(|(i, piece)| {
            // Padding may only end the whole value.
            (i + 1 == pieces || !piece.contains(&b'=')) && b64.decode_slice(piece, &mut out).is_ok()
        })
}

/// A stored snapshot, as returned to a restoring controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InfraBackup {
    /// Counts up from 1 per customer; the newest has the highest.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    /// The size of the snapshot as pushed.
    pub size_bytes: i64,
    #[serde(flatten)]
    pub backup: InfraBackupIn,
}

/// The answer to a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InfraBackupAccepted {
    pub ok: bool,
    pub version: i64,
    /// How many versions the hub now keeps for the customer.
    pub kept: u32,
}

/// One kept snapshot, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InfraBackupVersion {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub size_bytes: i64,
}

/// `GET /api/v1/infra-backup/{id}/versions`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InfraBackupVersions {
    pub customer_id: String,
    pub versions: Vec<InfraBackupVersion>,
}

/// `GET /api/v1/recovery/{id}`: the generated config and the newest infra backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryBundle {
    pub customer_id: String,
    /// The generated `controller.yaml`.
    pub config_yaml: String,
    /// `null` when the controller never pushed one.
    pub infra_backup: Option<InfraBackup>,
    pub has_infra_backup: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> InfraBackupIn {
        InfraBackupIn {
            customer_id: "kovacs".into(),
            controller_yaml: "Y3VzdG9tZXI6IHt9Cg==".into(),
            settings_json: "e30=".into(),
            disks: vec![Disk {
                uuid: "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e".into(),
                label: "data".into(),
                mount_point: "/mnt/data".into(),
                fstab_options: "defaults,nofail".into(),
                bind_mounts: vec![BindMount::Path("/srv/photos".into())],
            }],
            stacks: vec![Stack {
                app: "immich".into(),
                display_name: "Immich".into(),
                hdd_path: "/mnt/data/immich".into(),
            }],
            restic_passwords: ResticPasswords { primary: "p1".into(), cross_drive: "p2".into() },
        }
    }

    #[test]
    fn a_full_snapshot_is_valid_and_bind_mounts_take_both_forms() {
        assert_eq!(valid().validate(), Ok(()));
        let json = r#"{"customer_id":"a","controller_yaml":"eA==","settings_json":"","restic_passwords":{"primary":"x"},
            "disks":[{"uuid":"ABCD-1234","mount_point":"/m","bind_mounts":["/a",{"source":"/b","target":"/c"}]}]}"#;
        let parsed: InfraBackupIn = serde_json::from_str(json).unwrap();
        assert!(parsed.validate().is_ok());
        assert!(matches!(parsed.disks[0].bind_mounts[1], BindMount::Mount { .. }));
    }

    #[test]
    fn problems_name_the_field() {
        type Break = Box<dyn Fn(&mut InfraBackupIn)>;
        let cases: Vec<(&str, Break)> = vec![
            ("customer_id", Box::new(|b| b.customer_id = "X".into())),
            ("controller_yaml", Box::new(|b| b.controller_yaml = "not base64!".into())),
            ("settings_json", Box::new(|b| b.settings_json = "###".into())),
            ("disks[0].uuid", Box::new(|b| b.disks[0].uuid = "sda1".into())),
            ("disks[0].mount_point", Box::new(|b| b.disks[0].mount_point = "mnt".into())),
            ("stacks[0].app", Box::new(|b| b.stacks[0].app = "".into())),
            ("restic_passwords.primary", Box::new(|b| b.restic_passwords.primary.clear())),
        ];
        for (field, break_it) in cases {
            let mut b = valid();
            break_it(&mut b);
            assert_eq!(b.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn hostile_fstab_values_are_refused_naming_the_field() {
        type Break = Box<dyn Fn(&mut InfraBackupIn)>;
        let injected = "/mnt/data auto defaults 0 2\nUUID=0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e / ext4";
        let cases: Vec<(&str, Break)> = vec![
            ("disks[0].mount_point", Box::new(move |b| b.disks[0].mount_point = injected.into())),
            ("disks[0].mount_point", Box::new(|b| b.disks[0].mount_point = "/mnt/my data".into())),
            ("disks[0].mount_point", Box::new(|b| b.disks[0].mount_point = "/mnt/data\tx".into())),
            ("disks[0].mount_point", Box::new(|b| b.disks[0].mount_point = "/mnt/a\\040b".into())),
            ("disks[0].fstab_options", Box::new(|b| b.disks[0].fstab_options = "defaults 0 0\n/dev/sdb /root".into())),
            ("disks[0].fstab_options", Box::new(|b| b.disks[0].fstab_options = "defaults,,nofail".into())),
            ("disks[0].fstab_options", Box::new(|b| b.disks[0].fstab_options = "rw;exec".into())),
            ("disks[0].label", Box::new(|b| b.disks[0].label = "data\n/dev/sdb".into())),
            ("disks[0].label", Box::new(|b| b.disks[0].label = "x".repeat(256))),
            ("disks[0].uuid", Box::new(|b| b.disks[0].uuid = "0b6c1a7e-3f1d-4c1e-9a57-6d7e1b2c3d4e /".into())),
            ("disks[0].bind_mounts[0]", Box::new(|b| b.disks[0].bind_mounts = vec![BindMount::Path("srv".into())])),
            (
                "disks[0].bind_mounts[1].target",
                Box::new(|b| {
                    b.disks[0].bind_mounts.push(BindMount::Mount {
                        source: "/mnt/data/a".into(),
                        target: "/srv/a none bind 0 0\n/x".into(),
                        options: String::new(),
                    })
                }),
            ),
            (
                "disks[0].bind_mounts[1].source",
                Box::new(|b| {
                    b.disks[0].bind_mounts.push(BindMount::Mount {
                        source: "relative".into(),
                        target: "/srv/a".into(),
                        options: String::new(),
                    })
                }),
            ),
            (
                "disks[0].bind_mounts[1].options",
                Box::new(|b| {
                    b.disks[0].bind_mounts.push(BindMount::Mount {
                        source: "/mnt/data/a".into(),
                        target: "/srv/a".into(),
                        options: "bind 0 0".into(),
                    })
                }),
            ),
        ];
        for (field, break_it) in cases {
            let mut b = valid();
            break_it(&mut b);
            let err = b.validate().unwrap_err();
            assert_eq!(err.field, field, "{err:?}");
            assert!(err.message.contains(field), "{err:?}");
        }
        // What real nodes send stays valid: labels with spaces and accents, empty options, FAT
        // and NTFS serials, options with values.
        let mut b = valid();
        b.disks[0].label = "Adatok (külső)".into();
        b.disks[0].fstab_options = "defaults,nofail,x-systemd.device-timeout=10s,uid=1000".into();
        b.disks.push(Disk { uuid: "ABCD-1234".into(), mount_point: "/mnt/usb-1_2@x".into(), ..Disk::default() });
        b.disks[1].bind_mounts.push(BindMount::Mount {
            source: "/mnt/usb-1_2@x/a".into(),
            target: "/srv/a".into(),
            options: "ro,bind".into(),
        });
        assert_eq!(b.validate(), Ok(()));
    }

    #[test]
    fn base64_is_checked_piece_by_piece_as_a_whole_decode_would() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let long = b64.encode(vec![7u8; 20_000]);
        let mut padded_inside = b64.encode(vec![7u8; 3070]); // ends in '=' at piece 1's end
        padded_inside.push_str(&b64.encode(vec![7u8; 3000]));
        for value in
            ["", "eA==", "eHk=", "eHl6", long.as_str(), "eA", "e===", "eA==eA==", "###", padded_inside.as_str()]
        {
            assert_eq!(is_base64(value), b64.decode(value).is_ok(), "{:.20}…", value);
        }
    }

    #[test]
    fn debug_hides_restic_passwords() {
        assert!(!format!("{:?}", valid()).contains("p1"));
    }
}
