/*
 * The ACPI DMAR table of iommu.vtd's embedded default platform
 * (default-platform.txt names it; PLATFORM.md of iommu.vtd describes both).
 *
 * A two-socket Xeon Scalable server, PCI segment 0: five DMA-remapping units,
 * one per IIO stack that has devices, the stack with the PCH last, carrying
 * INCLUDE_PCI_ALL as the VT-d specification asks. Root ports are named by
 * bridge scopes; the buses behind them come from the platform file's bridge
 * lines. No RMRR: no device of this platform has firmware-reserved memory.
 *
 * Source for iasl (Debian acpica-tools): `iasl default-platform.dsl` writes
 * default-platform.aml, committed as default-platform.dat.
 * iommu.vtd/src/test/resources/dmar/regenerate.sh recompiles and compares.
 * Every subtable Length below is exact: iasl 20200925 takes them as written
 * (and loops forever on a wrong one).
 */
[0004]                          Signature : "DMAR"    [DMA Remapping table]
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "IOMMU "
[0008]                       Oem Table ID : "DEFAULT "
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 00000000

[0001]                 Host Address Width : 2D    /* 46 bits */
[0001]                              Flags : 01    /* INTR_REMAP */
[0010]                           Reserved : 00 00 00 00 00 00 00 00 00 00

/* dmar0: socket 0, IIO stack 1 (buses 17..39) */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0020
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000E0FFC000

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* root port of NIC 0 */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 17
[0002]                           PCI Path : 00,00

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* root port of NVMe drive 0 */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 17
[0002]                           PCI Path : 02,00

/* dmar1: socket 0, IIO stack 2 (buses 3a..5c) */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0020
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000C5FFC000

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* root port of NIC 1 */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 3A
[0002]                           PCI Path : 00,00

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* root port of the GPU */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 3A
[0002]                           PCI Path : 02,00

/* dmar2: socket 1, IIO stack 1 (buses 85..ad) */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0018
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000AAFFC000

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* root port of NIC 2 (buses 86-87) */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 85
[0002]                           PCI Path : 00,00

/* dmar3: socket 1, IIO stack 2 (buses ae..d6) */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0020
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 000000009D7FC000

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* root port of NVMe drive 1 */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : AE
[0002]                           PCI Path : 00,00

[0001]                  Device Scope Type : 02 [PCI Bridge Device]    /* root port of NVMe drive 2 */
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : AE
[0002]                           PCI Path : 01,00

/* dmar4: socket 0, IIO stack 0 with the PCH: every device no other unit claims */
[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0020
[0001]                              Flags : 01    /* INCLUDE_PCI_ALL */
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FBFFC000

[0001]                  Device Scope Type : 03 [IOAPIC Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 08
[0001]                     PCI Bus Number : F0
[0002]                           PCI Path : 1F,00

[0001]                  Device Scope Type : 04 [Message-capable HPET Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1F,00

/* the NICs' root ports report ATS */
[0002]                      Subtable Type : 0002 [Root Port ATS Capability]
[0002]                             Length : 0020
[0001]                              Flags : 00
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000

[0001]                  Device Scope Type : 02 [PCI Bridge Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 17
[0002]                           PCI Path : 00,00

[0001]                  Device Scope Type : 02 [PCI Bridge Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 3A
[0002]                           PCI Path : 00,00

[0001]                  Device Scope Type : 02 [PCI Bridge Device]
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 85
[0002]                           PCI Path : 00,00

/* NUMA proximity: socket 0 units in domain 0, socket 1 units in domain 1 */
[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 00000000E0FFC000
[0004]                   Proximity Domain : 00000000

[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 00000000C5FFC000
[0004]                   Proximity Domain : 00000000

[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 00000000AAFFC000
[0004]                   Proximity Domain : 00000001

[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 000000009D7FC000
[0004]                   Proximity Domain : 00000001

[0002]                      Subtable Type : 0003 [Remapping Hardware Static Affinity]
[0002]                             Length : 0014
[0004]                           Reserved : 00000000
[0008]                       Base Address : 00000000FBFFC000
[0004]                   Proximity Domain : 00000000
