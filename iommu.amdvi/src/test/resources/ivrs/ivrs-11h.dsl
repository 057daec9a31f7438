/*
 * IVRS revision 2 as current firmware writes it: each IOMMU is described twice,
 * by a type 10h IVHD (for old operating systems) and by a type 11h IVHD with the
 * EFR image; a reader must use one of them per IOMMU (the highest type).
 * ivhd0 = 00:00.2 at 0xfd200000: root-complex functions and bus 01 (256 ids);
 *         EFR with IASup (INVALIDATE_IOMMU_ALL), HATS 2.
 * ivhd1 = 40:00.2 at 0xf6200000: bus 41 (256 ids), a PCIe-to-PCI bridge alias;
 *         EFR without IASup (global invalidation falls back to per-entry commands).
 * Written for this project; compile with ./regenerate.sh.
 */
[0004]                          Signature : "IVRS"    [I/O Virtualization Reporting Structure]
[0004]                       Table Length : 00000000
[0001]                           Revision : 02
[0001]                           Checksum : 00
[0006]                             Oem ID : "IOMMU "
[0008]                       Oem Table ID : "AMDVI11H"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925

/* IVinfo: EFRSup, VAsize 64, PAsize 48, GVAsize 48 */
[0004]                Virtualization Info : 00203041
[0008]                           Reserved : 0000000000000000

/* IOMMU 00:00.2, IVHD type 10h */
[0001]                      Subtable Type : 10 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 0002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000FD200000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                  Feature Reporting : 80000060

[0001]                         Entry Type : 03
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 0007
[0001]                       Data Setting : 00

[0001]                         Entry Type : 02
[0002]                          Device ID : 0010
[0001]                       Data Setting : 00

[0001]                         Entry Type : 03
[0002]                          Device ID : 0100
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 01FF
[0001]                       Data Setting : 00

[0001]                         Entry Type : 48
[0002]                          Device ID : 0000
[0001]                       Data Setting : D7
[0001]                             Handle : 21
[0002]              Source Used Device ID : 00A0
[0001]                            Variety : 01

[0001]                         Entry Type : 02
[0002]                          Device ID : 00A0
[0001]                       Data Setting : D7

/* IOMMU 00:00.2, IVHD type 11h */
[0001]                      Subtable Type : 11 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 0002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000FD200000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                         Attributes : 00000000
[0008]                          EFR Image : 0000000F003D4BDF
[0008]                           Reserved : 0000000000000000

[0001]                         Entry Type : 03
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 0007
[0001]                       Data Setting : 00

[0001]                         Entry Type : 02
[0002]                          Device ID : 0010
[0001]                       Data Setting : 00

[0001]                         Entry Type : 03
[0002]                          Device ID : 0100
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 01FF
[0001]                       Data Setting : 00

[0001]                         Entry Type : 48
[0002]                          Device ID : 0000
[0001]                       Data Setting : D7
[0001]                             Handle : 21
[0002]              Source Used Device ID : 00A0
[0001]                            Variety : 01

[0001]                         Entry Type : 02
[0002]                          Device ID : 00A0
[0001]                       Data Setting : D7

/* IOMMU 40:00.2, IVHD type 10h */
[0001]                      Subtable Type : 10 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 4002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000F6200000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                  Feature Reporting : 80000040

[0001]                         Entry Type : 02
[0002]                          Device ID : 4000
[0001]                       Data Setting : 00

[0001]                         Entry Type : 03
[0002]                          Device ID : 4100
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 41FF
[0001]                       Data Setting : 00

[0001]                         Entry Type : 02
[0002]                          Device ID : 4208
[0001]                       Data Setting : 00

[0001]                         Entry Type : 42
[0002]                          Device ID : 4300
[0001]                       Data Setting : 00
[0001]                           Reserved : 00
[0002]              Source Used Device ID : 4208
[0001]                           Reserved : 00

[0001]                         Entry Type : 42
[0002]                          Device ID : 4308
[0001]                       Data Setting : 00
[0001]                           Reserved : 00
[0002]              Source Used Device ID : 4208
[0001]                           Reserved : 00

/* IOMMU 40:00.2, IVHD type 11h */
[0001]                      Subtable Type : 11 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 4002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000F6200000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                         Attributes : 00000000
[0008]                          EFR Image : 0000000F003D4B9F
[0008]                           Reserved : 0000000000000000

[0001]                         Entry Type : 02
[0002]                          Device ID : 4000
[0001]                       Data Setting : 00

[0001]                         Entry Type : 03
[0002]                          Device ID : 4100
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 41FF
[0001]                       Data Setting : 00

[0001]                         Entry Type : 02
[0002]                          Device ID : 4208
[0001]                       Data Setting : 00

[0001]                         Entry Type : 42
[0002]                          Device ID : 4300
[0001]                       Data Setting : 00
[0001]                           Reserved : 00
[0002]              Source Used Device ID : 4208
[0001]                           Reserved : 00

[0001]                         Entry Type : 42
[0002]                          Device ID : 4308
[0001]                       Data Setting : 00
[0001]                           Reserved : 00
[0002]              Source Used Device ID : 4208
[0001]                           Reserved : 00

/* IVMD 21h: 41:00.0 has a unity-mapped read/write range (firmware DMA target) */
[0001]                      Subtable Type : 21 [Memory Definition Block]
[0001]                              Flags : 07
[0002]                             Length : 0000
[0002]                           DeviceId : 4100
[0002]                     Auxiliary Data : 0000
[0008]                           Reserved : 0000000000000000
[0008]                      Start Address : 00000000DE000000
[0008]                      Memory Length : 0000000000200000
