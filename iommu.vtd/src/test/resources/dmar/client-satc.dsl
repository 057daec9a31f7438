/*
 * A client SoC DMAR for iommu.vtd's parser tests, revision 2, modelled on
 * the Surface Pro 10 (Meteor Lake) table: a graphics unit, an
 * INCLUDE_PCI_ALL unit with IOAPIC and HPET scopes, an RMRR for graphics, a
 * SATC (type 5) and a structure of type 6 (SIDP in later VT-d
 * specifications), which the parser must skip by its length. (The real
 * table's SIDP scopes have their flags byte set; iasl writes reserved fields
 * as zero, so the parser tests set such bytes in code.)
 *
 * iasl 20200925 (Debian 12) knows neither type 5 nor type 6, and no iasl
 * knows type 6. Both have the layout of an ATSR (flags, reserved, segment,
 * device scopes), so regenerate.sh compiles a copy in which their
 * "Subtable Type" is 0002 and then writes the type below back into the
 * binary and fixes the checksum; an iasl that knows SATC compiles type 5 as
 * written. Field names of the type 6 structure follow the ATSR's.
 * Every subtable Length is exact: iasl takes them as written.
 */
[0004]                          Signature : "DMAR"    [DMA Remapping table]
[0004]                       Table Length : 00000000
[0001]                           Revision : 02
[0001]                           Checksum : 00
[0006]                             Oem ID : "IOMMU "
[0008]                       Oem Table ID : "CLIENT  "
[0004]                       Oem Revision : 00000002
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 00000000

[0001]                 Host Address Width : 26    /* 39 bits */
[0001]                              Flags : 05    /* INTR_REMAP, DMA_CTRL_PLATFORM_OPT_IN */
[0010]                           Reserved : 00 00 00 00 00 00 00 00 00 00

/* DRHD #0, offset 0x30: integrated graphics */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0018
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FED90000

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 02,00

/* DRHD #1, offset 0x48: everything else */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0020
[0001]                              Flags : 01    /* INCLUDE_PCI_ALL */
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FED91000

[0001]                  Device Scope Type : 03 [IOAPIC Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 02
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1E,07

[0001]                  Device Scope Type : 04 [Message-capable HPET Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1E,06

/* RMRR #0, offset 0x68: graphics stolen memory */
[0002]                      Subtable Type : 0001 [Reserved Memory Region]
[0002]                             Length : 0020
[0002]                           Reserved : 0000
[0002]                 PCI Segment Number : 0000
[0008]                       Base Address : 000000007C000000
[0008]                End Address (limit) : 000000007FFFFFFF

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 02,00

/* SATC #0, offset 0x88: graphics and the IPU need their ATC */
[0002]                      Subtable Type : 0005 [SoC Integrated Address Translation Cache]
[0002]                             Length : 0018
[0001]                              Flags : 01    /* ATC_REQUIRED */
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 02,00

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 05,00

/* type 6, offset 0xa0: unknown to the parser, skipped by its length */
[0002]                      Subtable Type : 0006 [SoC Integrated Device Property]
[0002]                             Length : 0018
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 02,00

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 05,00
