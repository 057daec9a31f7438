/*
 * A two-segment server DMAR for iommu.vtd's parser tests: every structure
 * type iasl 20200925 knows (DRHD, RMRR, ATSR, RHSA, ANDD), four DRHDs on two
 * PCI segments (one INCLUDE_PCI_ALL unit per segment), scopes of every type,
 * and multi-hop scope paths that are walked through the bridges' secondary
 * buses. server-two-segments.txt gives the PCI topology those paths cross.
 *
 * Compiled by `iasl server-two-segments.dsl` (Debian acpica-tools) into
 * server-two-segments.dat beside it; regenerate.sh recompiles and compares.
 * Every subtable Length is exact: iasl takes them as written.
 */
[0004]                          Signature : "DMAR"    [DMA Remapping table]
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "IOMMU "
[0008]                       Oem Table ID : "TWOSEGS "
[0004]                       Oem Revision : 00000002
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 00000000

[0001]                 Host Address Width : 2D    /* 46 bits */
[0001]                              Flags : 03    /* INTR_REMAP, X2APIC_OPT_OUT */
[0010]                           Reserved : 00 00 00 00 00 00 00 00 00 00

/* DRHD #0, offset 0x30: segment 0, graphics, a device behind a root port, a switch */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 002C
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FED90000

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]    /* 0000:00:02.0 */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 02,00

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]    /* 00:1c.0, then 00.0 on its secondary bus */
[0001]                       Entry Length : 0A
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1C,00
[0002]                           PCI Path : 00,00

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* 00:1d.0, then the switch's upstream port */
[0001]                       Entry Length : 0A
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1D,00
[0002]                           PCI Path : 00,00

/* DRHD #1, offset 0x5c: segment 0, INCLUDE_PCI_ALL, interrupt sources and a namespace device */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0028
[0001]                              Flags : 01    /* INCLUDE_PCI_ALL */
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FED91000

[0001]                  Device Scope Type : 03 [IOAPIC Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 02
[0001]                     PCI Bus Number : F0
[0002]                           PCI Path : 1F,00

[0001]                  Device Scope Type : 04 [Message-capable HPET Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1F,00

[0001]                  Device Scope Type : 05 [Namespace Device]    /* ANDD device 1 */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 01
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 15,00

/* DRHD #2, offset 0x84: segment 1, a root port */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0018
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0001
[0008]              Register Base Address : 00000000FED92000

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* 0001:40:00.0 */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 40
[0002]                           PCI Path : 00,00

/* DRHD #3, offset 0x9c: segment 1, INCLUDE_PCI_ALL, no scope */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0010
[0001]                              Flags : 01    /* INCLUDE_PCI_ALL */
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0001
[0008]              Register Base Address : 00000000FED93000

/* RMRR #0, offset 0xac: USB and the device behind 00:1c.0 */
[0002]                      Subtable Type : 0001 [Reserved Memory Region]
[0002]                             Length : 002A
[0002]                           Reserved : 0000
[0002]                 PCI Segment Number : 0000
[0008]                       Base Address : 000000007D000000
[0008]                End Address (limit) : 000000007D1FFFFF

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 14,00

[0001]                  Device Scope Type : 01 [PCI Endpoint Device]
[0001]                       Entry Length : 0A
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1C,00
[0002]                           PCI Path : 00,00

/* RMRR #1, offset 0xd6: segment 1, everything behind a root port */
[0002]                      Subtable Type : 0001 [Reserved Memory Region]
[0002]                             Length : 0020
[0002]                           Reserved : 0000
[0002]                 PCI Segment Number : 0001
[0008]                       Base Address : 000000007E000000
[0008]                End Address (limit) : 000000007E0FFFFF

[0001]                  Device Scope Type : 02 [PCI Bridge Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 40
[0002]                           PCI Path : 00,00

/* ATSR #0, offset 0xf6: segment 0, one root port */
[0002]                      Subtable Type : 0002 [Root Port ATS Capability]
[0002]                             Length : 0010
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000

[0001]                  Device Scope Type : 02 [PCI Bridge Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1D,00

/* ATSR #1, offset 0x106: segment 1, all ports */
[0002]                      Subtable Type : 0002 [Root Port ATS Capability]
[0002]                             Length : 0008
[0001]                              Flags : 01    /* ALL_PORTS */
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0001

/* RHSA #0 and #1, offsets 0x10e and 0x122 */
[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 00000000FED90000
[0004]                   Proximity Domain : 00000000

[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 00000000FED92000
[0004]                   Proximity Domain : 00000001

/* ANDD #0, offset 0x136: the namespace device DRHD #1 names */
[0002]                      Subtable Type : 0004 [ACPI Namespace Device Declaration]
[0002]                             Length : 0017
[0003]                           Reserved : 000000
[0001]                      Device Number : 01
[0000]                        Device Name : "\_SB.PCI0.I2C0"
